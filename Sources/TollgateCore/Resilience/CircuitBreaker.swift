/// A circuit breaker for one target, as a value-type state machine driven by an explicit clock.
///
/// Closed: every request passes; failures are timestamped and when `failure_threshold` of them fall inside
/// the last `window_s` the breaker opens. Open: everything is rejected until `cooldown_s` has passed.
/// Half-open: exactly `half_open_probes` requests may be in flight; the first probe that gets an answer closes
/// the breaker, a failed probe opens it again. Every mutating call returns the transition it caused.
///
/// Not thread-safe on its own (it is a value); `BreakerRegistry` guards many of them with one lock.
public struct CircuitBreaker: Sendable {
    public private(set) var config: CircuitBreakerConfig
    public private(set) var phase: BreakerPhase = .closed
    /// When the current open period ends (meaningful while `phase == .open`).
    public private(set) var openUntil: MonotonicInstant?
    /// Half-open probes currently in flight.
    public private(set) var probesInFlight = 0
    /// How many times this breaker has opened, for metrics.
    public private(set) var openCount = 0

    /// Bumped on every transition; outcomes carrying an older generation are ignored.
    private var generation: UInt64 = 0
    /// The most recent failure instants, at most `failure_threshold` of them, oldest first.
    private var failures: [MonotonicInstant] = []

    public init(config: CircuitBreakerConfig = .default) {
        self.config = config
        failures.reserveCapacity(config.threshold)
    }

    /// Asks to send one request at `now`.
    public mutating func acquire(now: MonotonicInstant) -> BreakerAdmission {
        switch phase {
        case .closed:
            return BreakerAdmission(decision: .admitted(BreakerPermit(generation: generation, isProbe: false)))
        case .open:
            guard let until = openUntil, now < until else {
                let transition = move(to: .halfOpen, reason: .cooldownElapsed, now: now)
                probesInFlight = 1
                return BreakerAdmission(
                    decision: .admitted(BreakerPermit(generation: generation, isProbe: true)), transition: transition)
            }
            return BreakerAdmission(decision: .rejected(.open(until: until)))
        case .halfOpen:
            guard probesInFlight < config.probes else {
                return BreakerAdmission(decision: .rejected(.probesBusy))
            }
            probesInFlight += 1
            return BreakerAdmission(decision: .admitted(BreakerPermit(generation: generation, isProbe: true)))
        }
    }

    /// Reports how an admitted request ended. Client errors count as answers from a healthy target.
    @discardableResult
    public mutating func record(_ outcome: OutcomeClass, permit: BreakerPermit, now: MonotonicInstant)
        -> BreakerTransition?
    {
        guard permit.generation == generation else { return nil }  // admitted under an earlier state
        switch (phase, outcome) {
        case (_, .neutral):
            release(permit)
            return nil
        case (.closed, .success), (.closed, .clientError):
            return nil
        case (.closed, .targetFailure):
            return recordClosedFailure(now: now)
        case (.halfOpen, .success), (.halfOpen, .clientError):
            return permit.isProbe ? move(to: .closed, reason: .probeSucceeded, now: now) : nil
        case (.halfOpen, .targetFailure):
            return permit.isProbe ? open(reason: .probeFailed, now: now) : nil
        case (.open, _):
            return nil
        }
    }

    /// Gives back a permit whose request never produced a verdict (cancelled before an answer), so a
    /// half-open probe slot is not lost forever.
    public mutating func release(_ permit: BreakerPermit) {
        guard permit.generation == generation, permit.isProbe, phase == .halfOpen else { return }
        probesInFlight = max(0, probesInFlight - 1)
    }

    /// Failures counted in the window ending at `now`.
    public func failuresInWindow(now: MonotonicInstant) -> Int {
        guard phase == .closed else { return 0 }
        let cutoff = now - config.window
        return failures.reduce(0) { $0 + ($1 > cutoff ? 1 : 0) }
    }

    /// Whether `acquire(now:)` would admit a request, without changing anything.
    public func wouldAdmit(now: MonotonicInstant) -> Bool {
        switch phase {
        case .closed: true
        case .open: openUntil.map { now >= $0 } ?? true
        case .halfOpen: probesInFlight < config.probes
        }
    }

    /// Applies a reloaded config while keeping the current state.
    public mutating func reconfigure(_ newConfig: CircuitBreakerConfig) {
        config = newConfig
        if failures.count > newConfig.threshold {
            failures.removeFirst(failures.count - newConfig.threshold)
        }
    }

    private mutating func recordClosedFailure(now: MonotonicInstant) -> BreakerTransition? {
        if failures.count == config.threshold { failures.removeFirst() }
        failures.append(now)
        let cutoff = now - config.window
        guard failures.count == config.threshold, let oldest = failures.first, oldest > cutoff else { return nil }
        return open(reason: .failureThreshold, now: now)
    }

    private mutating func open(reason: BreakerTransition.Reason, now: MonotonicInstant) -> BreakerTransition {
        openUntil = now + config.cooldown
        openCount += 1
        return move(to: .open, reason: reason, now: now)
    }

    private mutating func move(to next: BreakerPhase, reason: BreakerTransition.Reason, now: MonotonicInstant)
        -> BreakerTransition
    {
        let transition = BreakerTransition(from: phase, to: next, reason: reason, at: now)
        phase = next
        generation &+= 1
        probesInFlight = 0
        failures.removeAll(keepingCapacity: true)
        if next != .open { openUntil = nil }
        return transition
    }
}
