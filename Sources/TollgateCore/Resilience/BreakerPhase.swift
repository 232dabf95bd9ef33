/// The three states of a circuit breaker, without their data; raw values are the names used in
/// metrics labels, logs and `/admin/status`.
public enum BreakerPhase: String, Sendable, Equatable, CaseIterable {
    case closed
    case open
    case halfOpen = "half_open"
}

/// A change of breaker state, returned by the call that caused it so the caller can log it and count it.
public struct BreakerTransition: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable {
        /// `failure_threshold` failures inside `window_s`.
        case failureThreshold = "failure_threshold"
        /// `cooldown_s` passed since the breaker opened; probes may go through.
        case cooldownElapsed = "cooldown_elapsed"
        /// A half-open probe got an answer from the target.
        case probeSucceeded = "probe_succeeded"
        /// A half-open probe failed; the breaker opens for another cooldown.
        case probeFailed = "probe_failed"
    }

    public var from: BreakerPhase
    public var to: BreakerPhase
    public var reason: Reason
    public var at: MonotonicInstant

    public init(from: BreakerPhase, to: BreakerPhase, reason: Reason, at: MonotonicInstant) {
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
    }
}

/// Proof that a breaker admitted a request; hand it back with the outcome (or `release` it).
///
/// The generation ties the outcome to the breaker state it was admitted in, so a slow answer from before a
/// state change (say, a success that started while closed and ends while half-open) cannot close or open
/// the breaker by accident.
public struct BreakerPermit: Sendable, Hashable {
    let generation: UInt64
    /// True when this request is one of the `half_open_probes`.
    public let isProbe: Bool

    init(generation: UInt64, isProbe: Bool) {
        self.generation = generation
        self.isProbe = isProbe
    }
}

/// Why a target refused a request.
public enum BreakerRejection: Sendable, Equatable {
    /// The breaker is open until this instant.
    case open(until: MonotonicInstant)
    /// Half-open and all probe slots are taken; treated like open.
    case probesBusy
    /// The provider asked not to be called again before this instant (`Retry-After`).
    case retryAfter(until: MonotonicInstant)

    /// The earliest moment it is worth asking again, if known.
    public var retryAt: MonotonicInstant? {
        switch self {
        case .open(let until), .retryAfter(let until): until
        case .probesBusy: nil
        }
    }
}

/// The answer to `acquire`: admitted with a permit, or rejected; plus the transition the call caused, if any
/// (open → half-open happens lazily, on the first acquire after the cooldown).
public struct BreakerAdmission: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case admitted(BreakerPermit)
        case rejected(BreakerRejection)
    }

    public var decision: Decision
    public var transition: BreakerTransition?

    public init(decision: Decision, transition: BreakerTransition? = nil) {
        self.decision = decision
        self.transition = transition
    }

    /// The permit when admitted.
    public var permit: BreakerPermit? {
        if case .admitted(let permit) = decision { return permit }
        return nil
    }
}
