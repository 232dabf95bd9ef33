extension Duration {
    /// Whole milliseconds, rounded up so a tiny positive limit never becomes "no limit" (0 in curl),
    /// and clamped to what curl's `long` options accept.
    var wholeMillisecondsRoundedUp: Int {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64(Int32.max / 1000) { return Int(Int32.max) }
        let fromAtto = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(seconds) * 1000 + Int(fromAtto)
    }
}
