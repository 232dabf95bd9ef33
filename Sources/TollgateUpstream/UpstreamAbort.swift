import Synchronization

/// A way to abort a transfer from outside the task that waits on it, for when the client of a
/// request goes away: before the provider's headers it fails `execute` with `.cancelled`, after
/// them it cancels the body. Firing is idempotent; firing before the transfer starts aborts it as
/// soon as it does.
public final class UpstreamAbort: Sendable {
    private struct State {
        var fired = false
        var handler: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    public var isFired: Bool { state.withLock { $0.fired } }

    public func fire() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.fired else { return nil }
            state.fired = true
            defer { state.handler = nil }
            return state.handler
        }
        handler?()
    }

    /// Sets what firing does from now on; runs it at once if already fired.
    func setHandler(_ handler: @escaping @Sendable () -> Void) {
        let fired = state.withLock { state -> Bool in
            if !state.fired { state.handler = handler }
            return state.fired
        }
        if fired { handler() }
    }
}
