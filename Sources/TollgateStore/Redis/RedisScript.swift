/// A Lua script called with EVALSHA, falling back to EVAL (which re-caches it) on NOSCRIPT.
struct RedisScript: Sendable {
    let source: String
    let sha1: String

    init(_ source: String) {
        self.source = source
        self.sha1 = KeyCrypto.sha1Hex(source)
    }

    func command(keys: [String], arguments: [String]) -> RedisCommand {
        let tail = [String(keys.count)] + keys + arguments
        return RedisCommand(["EVALSHA", sha1] + tail, noScriptFallback: ["EVAL", source] + tail)
    }
}
