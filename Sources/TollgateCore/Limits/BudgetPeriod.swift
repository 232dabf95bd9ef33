import Foundation

/// How often a budget starts over. Periods are UTC so every replica and every store agree on the
/// boundary regardless of host time zone; `total` never resets.
public enum BudgetPeriod: String, Sendable, Hashable, Codable, CaseIterable {
    case daily
    case monthly
    case total

    /// A stable name for the period containing `date` (`d2026-11-26`, `m2026-11`, `total`); stores
    /// use it in counter keys, so a new period simply starts from fresh counters.
    public func key(at date: Date) -> String {
        switch self {
        case .daily: return "d" + UTCCivilDate(date).isoDay
        case .monthly: return "m" + UTCCivilDate(date).isoMonth
        case .total: return "total"
        }
    }

    /// First instant of the period containing `date` (nil for `total`).
    public func start(containing date: Date) -> Date? {
        let civil = UTCCivilDate(date)
        switch self {
        case .daily: return civil.startDate
        case .monthly: return UTCCivilDate(year: civil.year, month: civil.month, day: 1).startDate
        case .total: return nil
        }
    }

    /// The boundary at which the period containing `date` ends and the budget resets (nil for `total`).
    public func end(containing date: Date) -> Date? {
        let civil = UTCCivilDate(date)
        switch self {
        case .daily:
            return UTCCivilDate(daysSinceEpoch: civil.daysSinceEpoch + 1).startDate
        case .monthly:
            let next = civil.month == 12
                ? UTCCivilDate(year: civil.year + 1, month: 1, day: 1)
                : UTCCivilDate(year: civil.year, month: civil.month + 1, day: 1)
            return next.startDate
        case .total:
            return nil
        }
    }

    /// How long a store should keep a period's counters after it starts: long enough to report on the
    /// previous period, short enough that old periods do not pile up (nil: keep forever).
    public var retentionSeconds: Int? {
        switch self {
        case .daily: return 3 * 86_400
        case .monthly: return 62 * 86_400
        case .total: return nil
        }
    }
}
