/// The `circuit_breaker` policy block: when a target is considered down and how it is probed back.
public struct CircuitBreakerConfig: Sendable, Equatable {
    /// Failures inside `windowSeconds` that open the breaker (`failure_threshold`).
    public var failureThreshold: Int
    /// Length of the sliding window failures are counted in (`window_s`).
    public var windowSeconds: Double
    /// How long an open breaker rejects before it lets probes through (`cooldown_s`).
    public var cooldownSeconds: Double
    /// Requests admitted at the same time while half-open (`half_open_probes`).
    public var halfOpenProbes: Int

    public init(failureThreshold: Int = 5, windowSeconds: Double = 30, cooldownSeconds: Double = 15, halfOpenProbes: Int = 1) {
        self.failureThreshold = failureThreshold
        self.windowSeconds = windowSeconds
        self.cooldownSeconds = cooldownSeconds
        self.halfOpenProbes = halfOpenProbes
    }

    /// The documented defaults of DESIGN.md.
    public static let `default` = CircuitBreakerConfig()

    /// Human messages, one per problem, each starting with the policy field name; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if failureThreshold < 1 {
            problems.append("failure_threshold: must be at least 1 (got \(failureThreshold))")
        } else if failureThreshold > 10_000 {
            problems.append("failure_threshold: must be at most 10000 (got \(failureThreshold))")
        }
        if !(windowSeconds.isFinite && windowSeconds > 0) {
            problems.append("window_s: must be a number of seconds greater than 0 (got \(windowSeconds))")
        }
        if !(cooldownSeconds.isFinite && cooldownSeconds > 0) {
            problems.append("cooldown_s: must be a number of seconds greater than 0 (got \(cooldownSeconds))")
        }
        if halfOpenProbes < 1 {
            problems.append("half_open_probes: must be at least 1 (got \(halfOpenProbes))")
        } else if halfOpenProbes > 1_000 {
            problems.append("half_open_probes: must be at most 1000 (got \(halfOpenProbes))")
        }
        return problems
    }

    var window: Duration { .policySeconds(windowSeconds) }
    var cooldown: Duration { .policySeconds(cooldownSeconds) }
    /// Clamped so an unvalidated config still yields a working breaker.
    var threshold: Int { min(max(1, failureThreshold), 10_000) }
    var probes: Int { min(max(1, halfOpenProbes), 1_000) }
}
