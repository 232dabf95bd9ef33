/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
/// the wait before retry `n` is uniform in `[0, min(cap, base * 2^(n-1))]`.
///
/// Full jitter spreads the retries of many clients that failed together, instead of having them return in
/// synchronized waves, at the price of sometimes retrying at once.
public enum RetryBackoff {
    /// The delay before retry number `retry` (1 for the first retry); zero for `retry < 1`.
    public static func delay(
        beforeRetry retry: Int, config: RetryConfig, using random: inout some RandomNumberGenerator
    ) -> Duration {
        let ceilingMs = ceilingMs(beforeRetry: retry, config: config)
        guard ceilingMs > 0 else { return .zero }
        let nanos = UInt64.random(in: 0...UInt64(ceilingMs) * 1_000_000, using: &random)
        return .nanoseconds(Int64(nanos))
    }

    /// The upper bound of the jittered delay before retry `retry`, in milliseconds.
    public static func ceilingMs(beforeRetry retry: Int, config: RetryConfig) -> Int {
        guard retry >= 1 else { return 0 }
        let shift = min(retry - 1, 30)  // 2^30 * 60_000 still fits in Int64
        return min(config.capMs, config.baseMs << shift)
    }
}
