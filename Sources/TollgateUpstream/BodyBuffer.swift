import Synchronization

/// The bounded hand-off between curl's write callback (producer, curl thread) and the single
/// consumer of an `UpstreamBody` (any task).
///
/// It never grows past its limits: when full, `offer` answers `.pause`, the curl thread pauses
/// the transfer (curl keeps that one chunk), and once the consumer has drained the buffer to half
/// it asks, through `requestResume`, for the transfer to be unpaused. Memory per transfer is
/// therefore bounded by the limits plus one curl chunk, however slow the consumer is.
final class BodyBuffer: Sendable {
    struct Limits: Sendable {
        var maxChunks: Int
        var maxBytes: Int

        static let standard = Limits(maxChunks: 16, maxBytes: 1 << 20)
    }

    enum OfferResult: Equatable {
        case accepted
        /// Buffer full: the producer must pause and offer this chunk again after resuming.
        case pause
        /// The consumer cancelled or went away: the producer should abort the transfer.
        case consumerGone
    }

    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var bufferedBytes = 0
        var peakBufferedBytes = 0
        var paused = false
        var resumeRequested = false
        var terminal: Result<Void, UpstreamError>?
        var terminalDelivered = false
        var consumerGone = false
        var waiter: CheckedContinuation<Result<[UInt8]?, UpstreamError>, Never>?

        var count: Int { chunks.count - head }

        mutating func popFirst() -> [UInt8]? {
            guard head < chunks.count else { return nil }
            let chunk = chunks[head]
            chunks[head] = []
            head += 1
            bufferedBytes -= chunk.count
            if head == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                head = 0
            }
            return chunk
        }
    }

    let limits: Limits
    private let state = Mutex(State())
    /// Called (outside the lock) when a paused transfer may continue. Must be cheap and non-blocking.
    private let requestResume: @Sendable () -> Void
    /// Called (outside the lock) once when the consumer cancels before the body completed.
    private let consumerCancelled: @Sendable () -> Void

    init(
        limits: Limits, requestResume: @escaping @Sendable () -> Void,
        consumerCancelled: @escaping @Sendable () -> Void
    ) {
        self.limits = limits
        self.requestResume = requestResume
        self.consumerCancelled = consumerCancelled
    }

    // MARK: producer side (curl thread)

    func offer(_ chunk: [UInt8]) -> OfferResult {
        let (result, waiter) = state.withLock { s -> (OfferResult, CheckedContinuation<Result<[UInt8]?, UpstreamError>, Never>?) in
            if s.consumerGone || s.terminal != nil { return (.consumerGone, nil) }
            if let waiter = s.waiter {
                s.waiter = nil
                return (.accepted, waiter)
            }
            if s.count >= limits.maxChunks || s.bufferedBytes >= limits.maxBytes {
                s.paused = true
                return (.pause, nil)
            }
            s.chunks.append(chunk)
            s.bufferedBytes += chunk.count
            s.peakBufferedBytes = max(s.peakBufferedBytes, s.bufferedBytes)
            return (.accepted, nil)
        }
        waiter?.resume(returning: .success(chunk))
        return result
    }

    /// Marks the transfer as unpaused; returns whether a resume had been requested.
    func takeResumeRequest() -> Bool {
        state.withLock { s in
            guard s.resumeRequested else { return false }
            s.resumeRequested = false
            s.paused = false
            return true
        }
    }

    var isPaused: Bool { state.withLock { $0.paused } }

    /// Ends the body. Buffered chunks are still delivered before the end (or the error).
    func finish(_ result: Result<Void, UpstreamError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<[UInt8]?, UpstreamError>, Never>? in
            guard s.terminal == nil else { return nil }
            s.terminal = result
            guard let waiter = s.waiter else { return nil }
            s.waiter = nil
            s.terminalDelivered = true
            return waiter
        }
        waiter?.resume(returning: result.map { nil })
    }

    // MARK: consumer side

    /// The next chunk, `nil` at the end, or the error that ended the body.
    func next() async -> Result<[UInt8]?, UpstreamError> {
        if let ready = takeReady() { return ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8]?, UpstreamError>, Never>) in
                let (immediate, askResume) = state.withLock { s -> (Result<[UInt8]?, UpstreamError>?, Bool) in
                    if let ready = Self.takeReady(&s, limits: limits) { return (ready.0, ready.1) }
                    if s.waiter != nil {
                        // Misuse (two consumers); refuse the second rather than lose the first.
                        return (.failure(.transferFailed("response body already has a waiting consumer")), false)
                    }
                    s.waiter = continuation
                    // Empty buffer while paused can only happen if a resume request is in flight;
                    // make sure one is.
                    if s.paused && !s.resumeRequested {
                        s.resumeRequested = true
                        return (nil, true)
                    }
                    return (nil, false)
                }
                if askResume { requestResume() }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Stops consuming: drops buffered data and tells the transfer to abort.
    func cancel() {
        let (waiter, notify) = state.withLock { s -> (CheckedContinuation<Result<[UInt8]?, UpstreamError>, Never>?, Bool) in
            if s.consumerGone { return (nil, false) }
            s.consumerGone = true
            s.chunks.removeAll()
            s.head = 0
            s.bufferedBytes = 0
            let notify = s.terminal == nil
            if s.terminal == nil { s.terminal = .failure(.cancelled) }
            let waiter = s.waiter
            s.waiter = nil
            if waiter != nil { s.terminalDelivered = true }
            return (waiter, notify)
        }
        waiter?.resume(returning: .failure(.cancelled))
        if notify { consumerCancelled() }
    }

    /// Whether the body ended (completed, failed or cancelled), as seen by the producer.
    var isFinished: Bool { state.withLock { $0.terminal != nil } }

    /// Largest number of bytes ever held at once; lets tests prove the bound holds.
    var peakBufferedBytes: Int { state.withLock { $0.peakBufferedBytes } }
    var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    private func takeReady() -> Result<[UInt8]?, UpstreamError>? {
        let (ready, askResume) = state.withLock { s -> (Result<[UInt8]?, UpstreamError>?, Bool) in
            guard let ready = Self.takeReady(&s, limits: limits) else { return (nil, false) }
            return ready
        }
        if askResume { requestResume() }
        return ready
    }

    /// A chunk or terminal result if one is available without waiting, plus whether the caller
    /// must request a resume (outside the lock).
    private static func takeReady(_ s: inout State, limits: Limits) -> (Result<[UInt8]?, UpstreamError>, Bool)? {
        if let chunk = s.popFirst() {
            var askResume = false
            if s.paused && !s.resumeRequested && s.count <= limits.maxChunks / 2
                && s.bufferedBytes <= limits.maxBytes / 2
            {
                s.resumeRequested = true
                askResume = true
            }
            return (.success(chunk), askResume)
        }
        guard let terminal = s.terminal else { return nil }
        if s.terminalDelivered { return (.success(nil), false) }
        s.terminalDelivered = true
        return (terminal.map { nil }, false)
    }
}
