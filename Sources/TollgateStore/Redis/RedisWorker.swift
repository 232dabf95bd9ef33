import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One pipelined Redis connection: callers write, a dedicated thread reads.
///
/// A caller writes its encoded command to the socket itself with a non-blocking `send` (under
/// `socket`, so commands and the queue of expected replies stay in the same order) and suspends on a
/// continuation. The send runs outside `state`: a caller the scheduler preempts inside `send` (Redis,
/// woken by those very bytes, often takes over its core) then never holds up the thread delivering
/// replies, which needs only `state` (a contended `Mutex` spins ~1,000 `pause`s, about 35 µs on the
/// reference VM, before it sleeps). The worker thread sits in `poll` on the socket, reads replies as
/// they arrive and resumes their callers in order. So a request costs one thread wake-up on the way back and none on
/// the way out, and N concurrent requests still share round trips. What the socket does not take at
/// once waits in `outbox` for the thread to flush; while disconnected, requests wait for the thread to
/// connect. No blocking call runs in the cooperative pool.
///
/// `@unchecked Sendable` is safe because the `RedisConnection` (a hiredis context) is only written to
/// and closed under `socket`'s lock, and only read from by the worker thread, which is also the only one
/// that closes it; the backoff fields are touched by the worker thread alone. Lock order: `socket`,
/// then `state`.
final class RedisWorker: @unchecked Sendable {
    typealias Completion = @Sendable (Result<RedisValue, StoreError>) -> Void

    struct Job {
        var command: RedisCommand
        var completion: Completion
        /// When its bytes went out; the reply must come within `commandTimeout` of it.
        var sentAt: ContinuousClock.Instant
        /// Already re-sent as EVAL after NOSCRIPT.
        var retried = false
    }

    private struct State {
        var connection: RedisConnection?
        /// Jobs whose commands are written (or in `outbox`), in the order their replies will come.
        var awaiting = JobQueue()
        /// Bytes written by callers that the socket did not take yet; flushed by the thread.
        var outbox: [UInt8] = []
        /// Jobs that arrived while disconnected; the thread connects and sends them.
        var waiting: [Job] = []
        /// Set by a caller whose write failed; the thread drops the connection.
        var writeFailure: String?
        /// Until then, reconnecting is not tried and requests fail at once.
        var retryAfter = ContinuousClock.now
        var stopped = false

        var queued: Int { awaiting.count + waiting.count }
    }

    private let url: RedisURL
    private let options: RedisConnectionOptions
    /// Sent first on every new connection (SCRIPT LOAD of the store's scripts); replies are ignored.
    private let greeting: [RedisCommand]
    private let state = Mutex(State())
    /// Held while bytes go to the socket (and while the connection is replaced or closed), so commands
    /// reach Redis in the order their jobs were queued in `awaiting`.
    private let socket = Mutex(())
    private let wakeup: WakeupPipe
    private let logger: Logger

    /// False from a failed connect or a dropped connection until the next successful connect: what
    /// callers that could act without Redis (admission leases) read to know it is down right now, and
    /// what makes the worker log the change once per outage rather than once per attempt.
    private let reachable = Atomic<Bool>(true)

    // Worker-thread-only state.
    private var backoff: Duration

    init(url: RedisURL, options: RedisConnectionOptions, name: String, greeting: [RedisCommand] = [], logger: Logger) {
        self.greeting = greeting
        self.logger = logger
        self.url = url
        self.options = options
        self.backoff = options.initialBackoff
        self.wakeup = WakeupPipe()
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// Runs the command on this connection; throws `.overloaded` if too many are queued and
    /// `.unavailable` if Redis cannot be reached or the connection breaks.
    func execute(_ command: RedisCommand) async throws -> RedisValue {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<RedisValue, StoreError>, Never>) in
            let job = Job(command: command, completion: { continuation.resume(returning: $0) }, sentAt: .now)
            if let refusal = submit(job) { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    /// Writes the command before returning (or queues it, in order, while connecting) and calls
    /// `completion` with the reply on the worker thread, or at once if the request is refused.
    func send(_ command: RedisCommand, completion: @escaping Completion) {
        let job = Job(command: command, completion: completion, sentAt: .now)
        if let refusal = submit(job) { completion(.failure(refusal)) }
    }

    func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            wakeup.signal()
        }
    }

    /// Queues the job and writes its command (or parks it while connecting); returns why it was
    /// refused, if it was. The job enters `awaiting` before its bytes leave, so its reply always
    /// finds it; the `send` itself holds only `socket`.
    private func submit(_ job: Job) -> StoreError? {
        socket.withLock { _ -> StoreError? in
            let step = state.withLock { state -> SubmitStep in
                if state.stopped { return .refused(.unavailable("the Redis store is shut down")) }
                if state.queued >= options.queueLimit {
                    return .refused(.overloaded("Redis request queue is full (\(options.queueLimit) pending)"))
                }
                guard let connection = state.connection else {
                    if ContinuousClock.now < state.retryAfter {
                        return .refused(.unreachable("Redis at \(url.endpoint) is unreachable (reconnecting with backoff)"))
                    }
                    state.waiting.append(job)
                    if state.waiting.count == 1 { wakeup.signal() }
                    return .done
                }
                state.awaiting.append(job)
                if state.outbox.isEmpty && state.writeFailure == nil { return .send(connection) }
                Self.queue(job.command.encoded[...], state: &state, wakeup: wakeup)
                return .done
            }
            switch step {
            case .refused(let error): return error
            case .done: return nil
            case .send(let connection):
                sendLocked(job.command.encoded, on: connection)
                return nil
            }
        }
    }

    private enum SubmitStep {
        case refused(StoreError)
        case done
        case send(RedisConnection)
    }

    /// Sends what the socket takes now; the rest goes to `outbox` for the thread, a failure to the
    /// thread as `writeFailure`. Call with `socket` held and `outbox` empty.
    private func sendLocked(_ bytes: [UInt8], on connection: RedisConnection) {
        switch bytes.withUnsafeBytes({ connection.sendNow($0) }) {
        case .sent(let count):
            guard count < bytes.count else { return }
            state.withLock { Self.queue(bytes[count...], state: &$0, wakeup: wakeup) }
        case .failed(let reason):
            state.withLock { state in
                state.writeFailure = reason
                wakeup.signal()
            }
        }
    }

    /// Appends to `outbox` (order is what matches replies to jobs); the thread is woken when it
    /// becomes non-empty.
    private static func queue(_ bytes: ArraySlice<UInt8>, state: inout State, wakeup: WakeupPipe) {
        if state.outbox.isEmpty { wakeup.signal() }
        state.outbox.append(contentsOf: bytes)
    }

    /// Sends at once when nothing is queued before it, else appends to `outbox`; for the thread's own
    /// writes (greeting, NOSCRIPT fallback), which hold both locks.
    private static func write(_ bytes: [UInt8], on connection: RedisConnection, state: inout State, wakeup: WakeupPipe) {
        var sent = 0
        if state.outbox.isEmpty && state.writeFailure == nil {
            switch bytes.withUnsafeBytes({ connection.sendNow($0) }) {
            case .sent(let count):
                sent = count
            case .failed(let reason):
                state.writeFailure = reason
                wakeup.signal()
                return
            }
        }
        guard sent < bytes.count else { return }
        queue(bytes[sent...], state: &state, wakeup: wakeup)
    }

    // MARK: Worker thread

    private func run() {
        while true {
            let (connection, stopped, hasWaiting) = state.withLock { ($0.connection, $0.stopped, !$0.waiting.isEmpty) }
            if stopped {
                shutDown()
                return
            }
            if let connection {
                serve(connection)
            } else if hasWaiting {
                connect()
            } else {
                wakeup.wait(fd: nil, events: 0, timeoutMilliseconds: -1)
                wakeup.drain()
            }
        }
    }

    /// One round of waiting on the socket: flushes the outbox, reads replies, enforces the timeout.
    private func serve(_ connection: RedisConnection) {
        let (wantsWrite, oldest, failure) = state.withLock { ($0.outbox.isEmpty == false, $0.awaiting.first?.sentAt, $0.writeFailure) }
        if let failure {
            drop(connection, reason: failure)
            return
        }
        let timeout = options.commandTimeout
        var waitMillis = Self.milliseconds(timeout)
        if let oldest {
            let waited = ContinuousClock.now - oldest
            if waited >= timeout {
                drop(connection, reason: "no reply from Redis within \(timeout)")
                return
            }
            waitMillis = max(1, Self.milliseconds(timeout - waited))
        }
        let events = Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0)
        let ready = wakeup.wait(fd: connection.fileDescriptor, events: events, timeoutMilliseconds: waitMillis)
        if ready.woken { wakeup.drain() }
        do {
            if ready.events & Int16(POLLOUT) != 0 { try flushOutbox(connection) }
            if ready.events & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 {
                try connection.readAvailable()
                while let reply = try connection.bufferedReply() { try deliver(reply, on: connection) }
            }
        } catch {
            drop(connection, reason: Self.cause(of: error))
        }
    }

    private func flushOutbox(_ connection: RedisConnection) throws {
        try socket.withLock { _ in
            try flushOutboxLocked(connection)
        }
    }

    private func flushOutboxLocked(_ connection: RedisConnection) throws {
        try state.withLock { state in
            guard !state.outbox.isEmpty else { return }
            switch state.outbox.withUnsafeBytes({ connection.sendNow($0) }) {
            case .sent(let count): state.outbox.removeFirst(count)
            case .failed(let reason): throw StoreError.unavailable("redis I/O failed: \(reason)")
            }
        }
    }

    /// Hands a reply to the oldest awaiting job; a script Redis lost (restart, SCRIPT FLUSH) is re-sent
    /// in full with EVAL, which also caches it again, and its job waits for that reply instead.
    private func deliver(_ reply: RedisValue, on connection: RedisConnection) throws {
        guard var job = state.withLock({ $0.awaiting.popFirst() }) else {
            throw StoreError.unavailable("Redis sent a reply nobody asked for")
        }
        if !job.retried, case .error(let message) = reply, message.hasPrefix("NOSCRIPT"),
            let fallback = job.command.noScriptFallback
        {
            job.retried = true
            job.sentAt = .now
            let retry = job
            socket.withLock { _ in
                state.withLock { state in
                    Self.write(fallback, on: connection, state: &state, wakeup: wakeup)
                    state.awaiting.append(retry)
                }
            }
            return
        }
        job.completion(.success(reply))
    }

    private func connect() {
        let attempt: Bool = state.withLock { ContinuousClock.now >= $0.retryAfter }
        var failure: String?
        if attempt {
            do {
                let fresh = try RedisConnection(url: url, connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout)
                backoff = options.initialBackoff
                if !reachable.exchange(true, ordering: .acquiringAndReleasing) {
                    logger.info("Redis connection restored", metadata: ["redis.url": "\(url)"])
                }
                let greeting = self.greeting
                socket.withLock { _ in
                    state.withLock { state in
                        state.connection = fresh
                        state.writeFailure = nil
                        for command in greeting {
                            Self.write(command.encoded, on: fresh, state: &state, wakeup: wakeup)
                            state.awaiting.append(Job(command: command, completion: { _ in }, sentAt: .now))
                        }
                        let waiting = state.waiting
                        state.waiting.removeAll()
                        for var job in waiting {
                            job.sentAt = .now
                            Self.write(job.command.encoded, on: fresh, state: &state, wakeup: wakeup)
                            state.awaiting.append(job)
                        }
                    }
                }
                return
            } catch {
                markUnhealthy(Self.cause(of: error))
                scheduleReconnect()
                failure = Self.cause(of: error)
            }
        }
        let reason = failure ?? "Redis at \(url.endpoint) is unreachable (reconnecting with backoff)"
        let failed = state.withLock { state -> [Job] in
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for job in failed { job.completion(.failure(.unreachable(reason))) }
    }

    /// Closes a broken connection and fails everything that was waiting on it; the next request
    /// reconnects (after the backoff). Replies already read were delivered; the rest are lost.
    private func drop(_ connection: RedisConnection, reason: String) {
        markUnhealthy(reason)
        scheduleReconnect()
        let failed = socket.withLock { _ in
            state.withLock { state -> [Job] in
                connection.close()
                state.connection = nil
                state.outbox.removeAll()
                state.writeFailure = nil
                return state.awaiting.removeAll()
            }
        }
        let error = StoreError.unavailable(reason.hasPrefix("state store unavailable") ? reason : "Redis connection lost: \(reason)")
        for job in failed { job.completion(.failure(error)) }
    }

    private func shutDown() {
        let failed = socket.withLock { _ in
            state.withLock { state -> [Job] in
                state.connection?.close()
                state.connection = nil
                state.outbox.removeAll()
                let jobs = state.awaiting.removeAll() + state.waiting
                state.waiting.removeAll()
                return jobs
            }
        }
        for job in failed { job.completion(.failure(.unavailable("the Redis store is shut down"))) }
    }

    /// Whether the last connection attempt succeeded and the connection has not been dropped since.
    var isReachable: Bool { reachable.load(ordering: .acquiring) }

    /// Logs once per outage, not once per failed request.
    private func markUnhealthy(_ reason: String) {
        guard reachable.exchange(false, ordering: .acquiringAndReleasing) else { return }
        logger.warning("Redis connection failed, reconnecting with backoff", metadata: ["redis.url": "\(url)", "error": "\(reason)"])
    }

    private func scheduleReconnect() {
        let delay = backoff
        state.withLock { $0.retryAfter = ContinuousClock.now + delay }
        backoff = min(backoff * 2, options.maxBackoff)
    }

    /// A store error's own message (its description would repeat "state store unavailable: " once
    /// the caller wraps it again).
    private static func cause(of error: any Error) -> String {
        (error as? StoreError)?.reason ?? String(describing: error)
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let components = duration.components
        let millis = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, millis))
    }
}
