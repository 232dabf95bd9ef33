import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// One hiredis connection; C types never leave this file.
///
/// `@unchecked Sendable` is safe because of how its two owners use it: the subscriber keeps it on its
/// own thread; a `RedisWorker` only writes to it (`sendNow`) and closes it while holding its state lock,
/// and only its own thread reads from it and is the only one that closes it, so the context is never
/// freed while another thread uses it and reads and writes touch separate parts of it.
final class RedisConnection: @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?

    /// Connects, authenticates and selects the database; throws `.unavailable` with hiredis' reason.
    init(url: RedisURL, connectTimeout: Duration, commandTimeout: Duration?) throws {
        Self.ignoreBrokenPipes
        let opened =
            if let path = url.socketPath {
                redisConnectUnixWithTimeout(path, Self.timeval(connectTimeout))
            } else {
                redisConnectWithTimeout(url.host, Int32(url.port), Self.timeval(connectTimeout))
            }
        guard let context = opened else {
            throw StoreError.unavailable("cannot allocate a Redis connection")
        }
        self.context = context
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            close()
            throw StoreError.unavailable("cannot connect to \(url.endpoint): \(reason)")
        }
        // A zero timeval means "block forever" (the subscriber waits for messages indefinitely).
        _ = redisSetTimeout(context, Self.timeval(commandTimeout ?? .zero))
        do {
            if let password = url.password {
                let auth = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                _ = try roundTrip(RedisCommand(auth)).checked()
            }
            if url.database != 0 {
                _ = try roundTrip(RedisCommand(["SELECT", String(url.database)])).checked()
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// hiredis writes with plain `write(2)`; writing to a connection Redis has closed would raise
    /// SIGPIPE and kill the gateway. Ignoring it process-wide (as servers do) turns that into EPIPE,
    /// which surfaces as `.unavailable`.
    private static let ignoreBrokenPipes: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    var isBroken: Bool { context.map { $0.pointee.err != 0 } ?? true }

    /// The socket, so another thread may `shutdown(2)` it to wake a blocked subscriber.
    var fileDescriptor: Int32 { context?.pointee.fd ?? -1 }

    /// Queues an encoded command (`RedisCommand.encoded`) in hiredis' output buffer; nothing is sent
    /// until `readReply` flushes it.
    func append(_ encoded: [UInt8]) throws {
        guard let context else { throw StoreError.unavailable("connection closed") }
        let status = encoded.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return REDIS_ERR }
            return redisAppendFormattedCommand(context, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard status == REDIS_OK else { throw StoreError.unavailable("cannot queue command: \(Self.errorText(context))") }
    }

    /// Writes everything queued (first call) and reads the next reply in order.
    func readReply() throws -> RedisValue {
        guard let context else { throw StoreError.unavailable("connection closed") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw StoreError.unavailable("redis I/O failed: \(Self.errorText(context))")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    /// Writes as much of `bytes` as the socket takes right now, without blocking (callers write their
    /// own commands from the cooperative pool). The worker owns reading and closing.
    func sendNow(_ bytes: UnsafeRawBufferPointer) -> SendOutcome {
        guard let context, context.pointee.err == 0 else { return .failed("connection closed") }
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .sent(0) }
        while true {
            let written = Glibc.send(context.pointee.fd, base, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if written >= 0 { return .sent(written) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .sent(0)
            default: return .failed(String(cString: strerror(errno)))
            }
        }
    }

    enum SendOutcome {
        case sent(Int)
        case failed(String)
    }

    /// Reads whatever the socket holds into hiredis' reader (call when `poll` says readable);
    /// throws when Redis closed the connection or the read failed.
    func readAvailable() throws {
        guard let context else { throw StoreError.unavailable("connection closed") }
        guard redisBufferRead(context) == REDIS_OK else {
            throw StoreError.unavailable("redis I/O failed: \(Self.errorText(context))")
        }
    }

    /// The next complete reply already read, or nil when more bytes are needed.
    func bufferedReply() throws -> RedisValue? {
        guard let context else { throw StoreError.unavailable("connection closed") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
            throw StoreError.unavailable("redis protocol error: \(Self.errorText(context))")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    func roundTrip(_ command: RedisCommand) throws -> RedisValue {
        try append(command.encoded)
        return try readReply()
    }

    func close() {
        if let context { redisFree(context) }
        context = nil
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            return .string(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element?[index] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "error \(context.pointee.err)" : String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let components = duration.components
        return Glibc.timeval(tv_sec: Int(components.seconds), tv_usec: Int(components.attoseconds / 1_000_000_000_000))
    }
}
