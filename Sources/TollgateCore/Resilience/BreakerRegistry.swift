import Synchronization

/// The breakers and `Retry-After` deadlines of every target, shared by all requests of the process.
///
/// One `Mutex` guards a dictionary of small value-type breakers; every call holds it for a few
/// comparisons and never while calling out, so it is safe to use from event loops and tasks alike.
/// Entries are created on first use and bounded by the targets of the policy (`retain(only:)` drops
/// the ones a reload removed).
public final class BreakerRegistry: Sendable {
    private struct Entry {
        var breaker: CircuitBreaker
        var notBefore: MonotonicInstant?

        mutating func acquire(now: MonotonicInstant) -> BreakerAdmission {
            if let notBefore {
                if now < notBefore { return BreakerAdmission(decision: .rejected(.retryAfter(until: notBefore))) }
                self.notBefore = nil
            }
            return breaker.acquire(now: now)
        }
    }

    private struct State {
        var config: CircuitBreakerConfig
        var entries: [TargetID: Entry] = [:]
    }

    private let state: Mutex<State>
    private let onTransition: (@Sendable (TargetID, BreakerTransition) -> Void)?

    /// - Parameter onTransition: called after the lock is released for every state change, whichever call
    ///   caused it; the natural place for the log line and the metrics counter.
    public init(
        config: CircuitBreakerConfig = .default,
        onTransition: (@Sendable (TargetID, BreakerTransition) -> Void)? = nil
    ) {
        self.state = Mutex(State(config: config))
        self.onTransition = onTransition
    }

    /// Asks to send one request to `target` at `now`; a pending `Retry-After` rejects before the breaker is asked.
    public func acquire(_ target: TargetID, now: MonotonicInstant) -> BreakerAdmission {
        let admission = state.withLock { state -> BreakerAdmission in
            let config = state.config
            // One in-place dictionary access: this runs on every request.
            return state.entries[target, default: Entry(breaker: CircuitBreaker(config: config))].acquire(now: now)
        }
        if let transition = admission.transition { onTransition?(target, transition) }
        return admission
    }

    /// Reports how an admitted request ended.
    @discardableResult
    public func record(
        _ target: TargetID, permit: BreakerPermit, outcome: OutcomeClass, now: MonotonicInstant
    ) -> BreakerTransition? {
        let transition = state.withLock { state -> BreakerTransition? in
            state.entries[target]?.breaker.record(outcome, permit: permit, now: now)
        }
        if let transition { onTransition?(target, transition) }
        return transition
    }

    /// Convenience: classifies the upstream outcome and records it.
    @discardableResult
    public func record(
        _ target: TargetID, permit: BreakerPermit, outcome: UpstreamOutcome, now: MonotonicInstant
    ) -> BreakerTransition? {
        record(target, permit: permit, outcome: FailureClassifier.classify(outcome), now: now)
    }

    /// Gives back a permit whose request ended without a verdict.
    public func release(_ target: TargetID, permit: BreakerPermit) {
        state.withLock { $0.entries[target]?.breaker.release(permit) }
    }

    /// Keeps `target` out of rotation until `until` (from the provider's `Retry-After`). A later deadline
    /// wins over an earlier one; the breaker itself is not touched (record the 429 separately).
    public func setNotBefore(_ target: TargetID, until: MonotonicInstant) {
        state.withLock { state in
            var entry = state.entries[target] ?? Entry(breaker: CircuitBreaker(config: state.config))
            if entry.notBefore.map({ until > $0 }) ?? true { entry.notBefore = until }
            state.entries[target] = entry
        }
    }

    /// Whether `acquire` would admit a request now, without taking a permit.
    public func isAvailable(_ target: TargetID, now: MonotonicInstant) -> Bool {
        state.withLock { state in
            guard let entry = state.entries[target] else { return true }
            if let notBefore = entry.notBefore, now < notBefore { return false }
            return entry.breaker.wouldAdmit(now: now)
        }
    }

    /// Applies a reloaded `circuit_breaker` block to existing and future breakers, keeping their states.
    public func updateConfig(_ config: CircuitBreakerConfig) {
        state.withLock { state in
            state.config = config
            for key in state.entries.keys { state.entries[key]?.breaker.reconfigure(config) }
        }
    }

    /// Forgets targets that are no longer in the policy, so the dictionary stays bounded across reloads.
    public func retain(only targets: Set<TargetID>) {
        state.withLock { state in state.entries = state.entries.filter { targets.contains($0.key) } }
    }

    /// Every known target's state, sorted by `provider/model` for stable output.
    public func snapshot(now: MonotonicInstant) -> [BreakerSnapshot] {
        let snapshots = state.withLock { state in
            state.entries.map { target, entry in
                BreakerSnapshot(
                    target: target, phase: entry.breaker.phase,
                    failuresInWindow: entry.breaker.failuresInWindow(now: now), openUntil: entry.breaker.openUntil,
                    probesInFlight: entry.breaker.probesInFlight, openCount: entry.breaker.openCount,
                    notBefore: entry.notBefore.flatMap { now < $0 ? $0 : nil })
            }
        }
        return snapshots.sorted { $0.target.description < $1.target.description }
    }
}
