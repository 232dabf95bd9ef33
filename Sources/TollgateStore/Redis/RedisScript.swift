/// A Lua script called with EVALSHA, falling back to EVAL (which re-caches it) on NOSCRIPT.
struct RedisScript: Sendable {
    let source: String
    let sha1: String

    init(_ source: String) {
        self.source = source
        self.sha1 = KeyCrypto.sha1Hex(source)
    }

    func command(keys: [String], arguments: [String]) -> RedisCommand {
        var writer = RESPWriter()
        writer.append(keys.count)
        for key in keys { writer.append(key) }
        for argument in arguments { writer.append(argument) }
        return RedisCommand(evaluating: self, arguments: writer)
    }
}
