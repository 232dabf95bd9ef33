import Synchronization

/// Hands the response head (or the failure before it) from the curl thread to the task awaiting
/// `CurlClient.execute`, exactly once, and arbitrates the race between "headers arrived" and
/// "the awaiting task was cancelled": whichever comes first wins.
final class ResponseHandoff: Sendable {
    typealias Outcome = Result<UpstreamResponse, UpstreamError>

    private enum State {
        case idle
        case waiting(CheckedContinuation<Outcome, Never>)
        case ready(Outcome)
        case done
    }

    private let state = Mutex(State.idle)

    /// Waits for the outcome; returns at once if it is already known.
    func wait() async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Outcome? in
                switch s {
                case .idle:
                    s = .waiting(continuation)
                    return nil
                case .ready(let outcome):
                    s = .done
                    return outcome
                case .waiting, .done:
                    return .failure(.cancelled)  // cannot happen: one waiter per transfer
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Delivers the outcome; returns false if one was already delivered (e.g. cancellation won).
    @discardableResult
    func deliver(_ outcome: Outcome) -> Bool {
        let (accepted, waiter) = state.withLock { s -> (Bool, CheckedContinuation<Outcome, Never>?) in
            switch s {
            case .idle:
                s = .ready(outcome)
                return (true, nil)
            case .waiting(let continuation):
                s = .done
                return (true, continuation)
            case .ready, .done:
                return (false, nil)
            }
        }
        waiter?.resume(returning: outcome)
        return accepted
    }

    /// Whether an outcome has been delivered (the response head reached, or will reach, the caller).
    var isDelivered: Bool {
        state.withLock { s in
            if case .idle = s { return false }
            if case .waiting = s { return false }
            return true
        }
    }
}
