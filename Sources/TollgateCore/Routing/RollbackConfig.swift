/// The `rollback` block of a canary variant: when its error rate proves it bad enough to take out of rotation.
public struct RollbackConfig: Sendable, Equatable {
    /// Error rate (0...1) that must be exceeded, strictly, inside the window (`max_error_rate`).
    public var maxErrorRate: Double
    /// Requests the window must hold before the rate is trusted (`min_requests`), so two early failures
    /// cannot roll a variant back.
    public var minRequests: Int
    /// Length of the rolling window (`window_s`).
    public var windowSeconds: Double

    public init(maxErrorRate: Double, minRequests: Int = 20, windowSeconds: Double = 60) {
        self.maxErrorRate = maxErrorRate
        self.minRequests = minRequests
        self.windowSeconds = windowSeconds
    }

    /// Human messages, one per problem, each starting with the policy field name; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if !(maxErrorRate.isFinite && maxErrorRate >= 0 && maxErrorRate < 1) {
            problems.append("max_error_rate: must be at least 0 and below 1 (got \(maxErrorRate))")
        }
        if minRequests < 1 || minRequests > 1_000_000 {
            problems.append("min_requests: must be between 1 and 1000000 (got \(minRequests))")
        }
        if !(windowSeconds.isFinite && windowSeconds > 0 && windowSeconds <= 86_400) {
            problems.append("window_s: must be a number of seconds above 0 and at most 86400 (got \(windowSeconds))")
        }
        return problems
    }
}
