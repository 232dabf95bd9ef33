/// A spending ceiling checked and reserved against during admission.
///
/// `scope` names whose budget it is within the team (`team`, or `key:<id>` for a per-key budget).
/// Either ceiling may be absent. The reserve is the request's estimate (prompt estimate plus
/// `max_tokens`, and its cost); it is corrected to the provider's actual usage at settle time.
public struct BudgetRule: Sendable, Hashable, Codable {
    public var scope: String
    public var period: BudgetPeriod
    public var tokenLimit: Int64?
    public var microsLimit: Int64?
    public var reserveTokens: Int64
    public var reserveMicros: Int64

    public init(
        scope: String, period: BudgetPeriod, tokenLimit: Int64?, microsLimit: Int64?, reserveTokens: Int64,
        reserveMicros: Int64
    ) {
        self.scope = scope
        self.period = period
        self.tokenLimit = tokenLimit
        self.microsLimit = microsLimit
        self.reserveTokens = max(0, reserveTokens)
        self.reserveMicros = max(0, reserveMicros)
    }
}

/// Which ceiling of a budget ran out.
public enum BudgetDimension: String, Sendable, Hashable, Codable {
    case tokens
    case usd
}

/// What a budget period has consumed so far, counting outstanding reservations.
public struct BudgetConsumption: Sendable, Hashable, Codable {
    public var tokens: Int64
    public var micros: Int64

    public init(tokens: Int64 = 0, micros: Int64 = 0) {
        self.tokens = tokens
        self.micros = micros
    }
}

/// Reserve-then-settle arithmetic for budgets.
///
/// A reservation is admitted while the period has anything left (`consumed < limit`), and then adds its
/// whole estimate. Because the check and the add are one atomic step in both stores, N concurrent
/// requests can overshoot a ceiling by at most one reservation: the last one admitted while something
/// was left. Settling adds `actual - reserved`; a refund subtracts the reservation.
public enum BudgetMath {
    /// The first ceiling the rule finds exhausted, or nil when the reservation may proceed.
    public static func exhaustedDimension(_ rule: BudgetRule, consumed: BudgetConsumption) -> BudgetDimension? {
        if let limit = rule.tokenLimit, consumed.tokens >= limit { return .tokens }
        if let limit = rule.microsLimit, consumed.micros >= limit { return .usd }
        return nil
    }

    public static func reserve(_ rule: BudgetRule, on consumed: BudgetConsumption) -> BudgetConsumption {
        BudgetConsumption(tokens: consumed.tokens + rule.reserveTokens, micros: consumed.micros + rule.reserveMicros)
    }

    /// Corrects a reservation to actual use; consumption never drops below zero.
    public static func settle(
        _ consumed: BudgetConsumption, reserved: BudgetConsumption, actual: BudgetConsumption
    ) -> BudgetConsumption {
        BudgetConsumption(
            tokens: max(0, consumed.tokens + actual.tokens - reserved.tokens),
            micros: max(0, consumed.micros + actual.micros - reserved.micros))
    }

    public static func refund(_ consumed: BudgetConsumption, reserved: BudgetConsumption) -> BudgetConsumption {
        settle(consumed, reserved: reserved, actual: BudgetConsumption())
    }
}
