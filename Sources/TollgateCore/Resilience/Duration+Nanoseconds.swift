extension Duration {
    /// Whole nanoseconds, saturating instead of trapping so a huge configured value can never crash.
    var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }

    /// A duration from policy seconds; non-finite or negative input becomes zero (validation reports it).
    static func policySeconds(_ seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        // Cap at ~10 years so the conversion can never overflow.
        let capped = min(seconds, 315_360_000)
        return .nanoseconds(Int64(capped * 1_000_000_000))
    }
}
