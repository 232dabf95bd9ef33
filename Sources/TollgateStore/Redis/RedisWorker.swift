import Dispatch
import Foundation
import Logging
import Synchronization

/// One Redis connection driven by its own thread, with pipelining.
///
/// Async callers enqueue jobs (a few commands each) into a bounded queue and suspend on a
/// continuation. The thread takes everything queued, appends all commands to hiredis' output buffer,
/// writes them in one go and reads the replies in order, handing each job its replies. So N concurrent
/// requests cost about one network round trip, and no blocking call ever runs in the cooperative pool.
///
/// `@unchecked Sendable` is safe because the only non-Sendable state, `connection` and the backoff
/// fields, is touched exclusively by the worker thread; the queue is behind a `Mutex`.
final class RedisWorker: @unchecked Sendable {
    struct Job {
        var commands: [RedisCommand]
        var completion: @Sendable (Result<[RedisValue], StoreError>) -> Void
    }

    private let url: RedisURL
    private let options: RedisConnectionOptions
    private let queue = Mutex<(jobs: [Job], stopped: Bool)>(([], false))
    private let wakeup = DispatchSemaphore(value: 0)
    private let logger: Logger

    // Worker-thread-only state.
    private var connection: RedisConnection?
    private var backoff: Duration
    private var nextAttempt = ContinuousClock.now
    private var healthy = true

    init(url: RedisURL, options: RedisConnectionOptions, name: String, logger: Logger) {
        self.logger = logger
        self.url = url
        self.options = options
        self.backoff = options.initialBackoff
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// Runs the commands in order on this connection; throws `.overloaded` if the queue is full and
    /// `.unavailable` if Redis cannot be reached or the connection breaks.
    func execute(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[RedisValue], StoreError>, Never>) in
            let job = Job(commands: commands) { continuation.resume(returning: $0) }
            let refusal: StoreError? = queue.withLock { state in
                if state.stopped { return .unavailable("the Redis store is shut down") }
                if state.jobs.count >= options.queueLimit {
                    return .overloaded("Redis request queue is full (\(options.queueLimit) pending)")
                }
                state.jobs.append(job)
                return nil
            }
            if let refusal {
                continuation.resume(returning: .failure(refusal))
            } else {
                wakeup.signal()
            }
        }
        return try result.get()
    }

    func stop() {
        queue.withLock { $0.stopped = true }
        wakeup.signal()
    }

    private func run() {
        while true {
            wakeup.wait()
            let (batch, stopped) = queue.withLock { state -> ([Job], Bool) in
                let count = min(state.jobs.count, options.maxBatch)
                let batch = Array(state.jobs.prefix(count))
                state.jobs.removeFirst(count)
                if count > 0 && !state.jobs.isEmpty { wakeup.signal() }
                return (batch, state.stopped)
            }
            if stopped {
                let rest = queue.withLock { state -> [Job] in
                    defer { state.jobs.removeAll() }
                    return state.jobs
                }
                for job in batch + rest { job.completion(.failure(.unavailable("the Redis store is shut down"))) }
                connection?.close()
                connection = nil
                return
            }
            if !batch.isEmpty { process(batch) }
        }
    }

    private func process(_ batch: [Job]) {
        guard let connection = connectIfNeeded() else {
            let reason = "Redis at \(url.host):\(url.port) is unreachable (reconnecting with backoff)"
            for job in batch { job.completion(.failure(.unavailable(reason))) }
            return
        }
        do {
            for job in batch {
                for command in job.commands { try connection.append(command.encoded) }
            }
            var results: [[RedisValue]] = []
            results.reserveCapacity(batch.count)
            var retries: [(job: Int, command: Int, fallback: [UInt8])] = []
            for (jobIndex, job) in batch.enumerated() {
                var replies: [RedisValue] = []
                for (commandIndex, command) in job.commands.enumerated() {
                    let reply = try connection.readReply()
                    if case .error(let message) = reply, message.hasPrefix("NOSCRIPT"), let fallback = command.noScriptFallback {
                        retries.append((jobIndex, commandIndex, fallback))
                    }
                    replies.append(reply)
                }
                results.append(replies)
            }
            // Scripts flushed from Redis (restart, SCRIPT FLUSH) are re-sent in full with EVAL, which
            // also caches them again; done after the batch so pipelined replies stay in order.
            for retry in retries { try connection.append(retry.fallback) }
            for retry in retries { results[retry.job][retry.command] = try connection.readReply() }
            for (job, replies) in zip(batch, results) { job.completion(.success(replies)) }
        } catch {
            connection.close()
            self.connection = nil
            markUnhealthy("\(error)")
            scheduleReconnect()
            let storeError = (error as? StoreError) ?? .unavailable("\(error)")
            // Replies already read are not delivered: the batch fails as a whole, callers retry or fail over.
            for job in batch { job.completion(.failure(storeError)) }
        }
    }

    private func connectIfNeeded() -> RedisConnection? {
        if let connection, !connection.isBroken { return connection }
        connection?.close()
        connection = nil
        guard ContinuousClock.now >= nextAttempt else { return nil }
        do {
            let fresh = try RedisConnection(url: url, connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout)
            connection = fresh
            backoff = options.initialBackoff
            if !healthy {
                healthy = true
                logger.info("Redis connection restored", metadata: ["redis.url": "\(url)"])
            }
            return fresh
        } catch {
            markUnhealthy("\(error)")
            scheduleReconnect()
            return nil
        }
    }

    /// Logs once per outage, not once per failed request.
    private func markUnhealthy(_ reason: String) {
        guard healthy else { return }
        healthy = false
        logger.warning("Redis connection failed, reconnecting with backoff", metadata: ["redis.url": "\(url)", "error": "\(reason)"])
    }

    private func scheduleReconnect() {
        nextAttempt = ContinuousClock.now + backoff
        backoff = min(backoff * 2, options.maxBackoff)
    }
}
