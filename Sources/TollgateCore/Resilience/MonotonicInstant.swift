/// A point on a monotonic timeline, in nanoseconds from an arbitrary origin.
///
/// Every time-driven type here (breakers, rollback windows, failover) takes `now` as one of these rather than
/// reading a clock, so tests drive time by hand. It is a plain frozen-layout integer on purpose:
/// `ContinuousClock.Instant` is a resilient type, and carrying it through the breaker's hot path cost
/// runtime metadata calls and allocations per request.
@frozen
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The zero instant, handy as the origin in tests.
    public static let zero = MonotonicInstant(nanoseconds: 0)

    /// The process's monotonic clock (`ContinuousClock`), measured from the first call in this process.
    /// The server passes this as `now`; tests construct instants directly.
    public static func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: (ContinuousClock.now - processOrigin).saturatingNanoseconds)
    }

    private static let processOrigin = ContinuousClock.now

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: saturating(lhs.nanoseconds.addingReportingOverflow(rhs.saturatingNanoseconds)))
    }

    public static func - (lhs: MonotonicInstant, rhs: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: saturating(lhs.nanoseconds.subtractingReportingOverflow(rhs.saturatingNanoseconds)))
    }

    public static func - (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Duration {
        .nanoseconds(saturating(lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)))
    }

    /// Clamps instead of wrapping: an absurd configured duration must not turn "far future" into "past".
    private static func saturating(_ result: (partialValue: Int64, overflow: Bool)) -> Int64 {
        guard result.overflow else { return result.partialValue }
        return result.partialValue < 0 ? .max : .min
    }

    /// This instant as seconds since the origin, for JSON in `/admin/status`.
    public var seconds: Double { Double(nanoseconds) / 1_000_000_000 }

    public var description: String { "\(seconds)s" }
}
