/// One command in RESP wire format and, for a script call, what to send instead if Redis answers
/// NOSCRIPT: the script's full source with EVAL, which also caches it again.
struct RedisCommand: Sendable {
    /// Appended to the connection's output buffer as is.
    let encoded: [UInt8]
    private let script: RedisScript?
    /// numkeys, keys and ARGV of a script call, shared by EVALSHA and the EVAL fallback.
    private let scriptArguments: RESPWriter?

    init(_ arguments: [String]) {
        var writer = RESPWriter()
        for argument in arguments { writer.append(argument) }
        encoded = writer.command()
        script = nil
        scriptArguments = nil
    }

    /// A plain command whose arguments were written (binary-safe) into `writer`.
    init(written writer: RESPWriter) {
        encoded = writer.command()
        script = nil
        scriptArguments = nil
    }

    /// EVALSHA of `script`; `arguments` holds numkeys, the keys, then ARGV.
    init(evaluating script: RedisScript, arguments: RESPWriter) {
        var head = RESPWriter(capacity: 64)
        head.append("EVALSHA")
        head.append(script.sha1)
        encoded = arguments.command(prefix: head)
        self.script = script
        scriptArguments = arguments
    }

    /// Built only when Redis has lost the cached script (restart, SCRIPT FLUSH), never per request.
    var noScriptFallback: [UInt8]? {
        guard let script, let scriptArguments else { return nil }
        var head = RESPWriter(capacity: script.source.utf8.count + 32)
        head.append("EVAL")
        head.append(script.source)
        return scriptArguments.command(prefix: head)
    }
}
