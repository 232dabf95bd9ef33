/// The `retries` policy block: how many extra attempts a request may make and how long to wait between them.
public struct RetryConfig: Sendable, Equatable {
    /// Extra attempts after the first one (`max`); 0 disables retries and failover.
    public var max: Int
    /// Base of the exponential backoff in milliseconds (`backoff_ms`).
    public var backoffMs: Int
    /// Ceiling of one backoff in milliseconds (`max_backoff_ms`); nil means ten times `backoffMs`,
    /// Envoy's default ratio, so a large `max` cannot make a request sleep for minutes.
    public var maxBackoffMs: Int?

    public init(max: Int = 2, backoffMs: Int = 100, maxBackoffMs: Int? = nil) {
        self.max = max
        self.backoffMs = backoffMs
        self.maxBackoffMs = maxBackoffMs
    }

    public static let `default` = RetryConfig()

    /// Human messages, one per problem, each starting with the policy field name; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if max < 0 || max > 10 {
            problems.append("max: must be between 0 and 10 (got \(max))")
        }
        if backoffMs < 0 || backoffMs > 60_000 {
            problems.append("backoff_ms: must be between 0 and 60000 (got \(backoffMs))")
        }
        if let cap = maxBackoffMs {
            if cap < 0 || cap > 300_000 {
                problems.append("max_backoff_ms: must be between 0 and 300000 (got \(cap))")
            } else if cap < backoffMs {
                problems.append("max_backoff_ms: must not be smaller than backoff_ms (\(cap) < \(backoffMs))")
            }
        }
        return problems
    }

    var attemptLimit: Int { 1 + Swift.min(Swift.max(0, max), 10) }
    var baseMs: Int { Swift.min(Swift.max(0, backoffMs), 60_000) }
    var capMs: Int { Swift.min(Swift.max(0, maxBackoffMs ?? baseMs * 10), 300_000) }
}
