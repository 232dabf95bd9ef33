/// Formats durations the way OpenAI's `x-ratelimit-reset-*` headers do (`"1s"`, `"6m0s"`, `"20ms"`),
/// so clients that parse OpenAI's headers keep working against the gateway.
public enum RateLimitHeaderFormat {
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        if seconds < 1 {
            return "\(max(1, Int((seconds * 1000).rounded(.up))))ms"
        }
        let totalMillis = Int((seconds * 1000).rounded(.up))
        let hours = totalMillis / 3_600_000
        let minutes = (totalMillis % 3_600_000) / 60_000
        let millis = totalMillis % 60_000
        let secondsPart = formatSeconds(millis)
        if hours > 0 { return "\(hours)h\(minutes)m\(secondsPart)s" }
        if minutes > 0 { return "\(minutes)m\(secondsPart)s" }
        return "\(secondsPart)s"
    }

    /// `Retry-After` takes whole seconds; round up so a client never retries too early, at least 1.
    public static func retryAfterSeconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 1 }
        return max(1, Int(seconds.rounded(.up)))
    }

    private static func formatSeconds(_ millis: Int) -> String {
        let whole = millis / 1000
        let fraction = millis % 1000
        guard fraction != 0 else { return "\(whole)" }
        var digits = String(fraction)
        while digits.count < 3 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
