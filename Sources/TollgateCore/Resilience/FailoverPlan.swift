/// Walks one request through a model's ordered targets: which target to try next, after how long, or
/// that it is time to degrade or give up.
///
/// The plan is a value created per request. Each `next` call is one attempt: it starts after the target
/// that was tried last (wrapping around), skips targets whose breaker rejects or whose `Retry-After` has
/// not passed, and takes a breaker permit for the one it picks. At most `1 + retries.max` attempts are
/// made; every attempt after the first waits a full-jitter backoff. The caller records each attempt's
/// outcome in the `BreakerRegistry`, sets `Retry-After` deadlines there, and stops calling `next` on a
/// non-retryable outcome or once the first byte went to the client.
public struct FailoverPlan: Sendable {
    public let targets: [TargetID]
    public let retries: RetryConfig
    /// The model served instead when every target of this one is rejected by its breaker or `Retry-After`.
    public let degradeTo: String?
    /// Attempts handed out so far.
    public private(set) var attempts = 0
    private var lastIndex: Int?

    public init(targets: [TargetID], retries: RetryConfig = .default, degradeTo: String? = nil) {
        self.targets = targets
        self.retries = retries
        self.degradeTo = degradeTo
    }

    /// One attempt to make: the target, its breaker permit, and how long to wait before sending.
    public struct Attempt: Sendable, Equatable {
        public var target: TargetID
        public var permit: BreakerPermit
        /// Zero for the first attempt; the jittered backoff before a retry.
        public var delay: Duration
        /// 1-based attempt number, for logs and the audit record.
        public var number: Int
    }

    public enum Exhaustion: Sendable, Equatable {
        /// The model has no targets at all.
        case noTargets
        /// Every target is open or asked to be left alone; `retryAt` is the earliest known reopening (for a 503's
        /// `Retry-After`).
        case allTargetsUnavailable(retryAt: MonotonicInstant?)
        /// `1 + retries.max` attempts were made and failed; the caller answers from the last failure (502/504).
        case attemptsExhausted
    }

    public enum Step: Sendable, Equatable {
        case attempt(Attempt)
        /// Every target is unavailable and the policy names a fallback model: serve that one instead and mark
        /// it in `x-tollgate-model`. Build its plan without `degradeTo`, so degradation never chains.
        case degrade(model: String)
        case exhausted(Exhaustion)
    }

    /// The next thing to do at `now`.
    public mutating func next(
        now: MonotonicInstant, registry: BreakerRegistry, using random: inout some RandomNumberGenerator
    ) -> Step {
        guard !targets.isEmpty else { return .exhausted(.noTargets) }
        guard attempts < retries.attemptLimit else { return .exhausted(.attemptsExhausted) }
        let start = lastIndex.map { ($0 + 1) % targets.count } ?? 0
        var retryAt: MonotonicInstant?
        for offset in 0..<targets.count {
            let index = (start + offset) % targets.count
            let admission = registry.acquire(targets[index], now: now)
            switch admission.decision {
            case .admitted(let permit):
                attempts += 1
                lastIndex = index
                let delay =
                    attempts > 1 ? RetryBackoff.delay(beforeRetry: attempts - 1, config: retries, using: &random) : .zero
                return .attempt(Attempt(target: targets[index], permit: permit, delay: delay, number: attempts))
            case .rejected(let rejection):
                if let at = rejection.retryAt { retryAt = retryAt.map { min($0, at) } ?? at }
            }
        }
        if let degradeTo { return .degrade(model: degradeTo) }
        return .exhausted(.allTargetsUnavailable(retryAt: retryAt))
    }
}
