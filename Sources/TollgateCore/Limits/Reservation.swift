import Foundation

/// The handle an admitted request carries until it settles or refunds: what was reserved where, so
/// the store can later correct exactly those buckets (even if a period boundary passed meanwhile).
public struct Reservation: Sendable, Hashable, Codable {
    public var team: String
    public var keyID: String?
    /// When the request was admitted; usage is counted in the periods containing this instant.
    public var admittedAt: Date
    public var tokenLimits: [ReservedTokenLimit]
    public var budgets: [ReservedBudget]

    public init(team: String, keyID: String?, admittedAt: Date, tokenLimits: [ReservedTokenLimit], budgets: [ReservedBudget]) {
        self.team = team
        self.keyID = keyID
        self.admittedAt = admittedAt
        self.tokenLimits = tokenLimits
        self.budgets = budgets
    }

    /// What admitting `request` reserves: every tokens-per-minute charge (to be corrected by actual
    /// tokens) and every budget reserve, in the budget periods `periodKeys` (one per budget rule).
    public init(admitting request: AdmissionRequest, periodKeys: [String], at now: Date) {
        self.init(
            team: request.team, keyID: request.keyID, admittedAt: now,
            tokenLimits: request.limits.filter { $0.kind == .tokens }.map {
                ReservedTokenLimit(
                    key: $0.key, limit: $0.limit, windowSeconds: $0.windowSeconds, reservedTokens: Int($0.gcra.normalizedCost($0.cost)))
            },
            budgets: zip(request.budgets, periodKeys).map { rule, periodKey in
                ReservedBudget(
                    scope: rule.scope, period: rule.period, periodKey: periodKey,
                    reserved: BudgetConsumption(tokens: rule.reserveTokens, micros: rule.reserveMicros))
            })
    }
}

/// A tokens-per-minute bucket charged with an estimate, to be corrected by actual minus estimate.
public struct ReservedTokenLimit: Sendable, Hashable, Codable {
    public var key: String
    public var limit: Int
    public var windowSeconds: Int
    public var reservedTokens: Int

    public init(key: String, limit: Int, windowSeconds: Int, reservedTokens: Int) {
        self.key = key
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.reservedTokens = reservedTokens
    }
}

/// A budget bucket (scope and period instance) holding this request's reservation.
public struct ReservedBudget: Sendable, Hashable, Codable {
    public var scope: String
    public var period: BudgetPeriod
    public var periodKey: String
    public var reserved: BudgetConsumption

    public init(scope: String, period: BudgetPeriod, periodKey: String, reserved: BudgetConsumption) {
        self.scope = scope
        self.period = period
        self.periodKey = periodKey
        self.reserved = reserved
    }

    /// Identity of the bucket within the team.
    public var bucket: String { AdmissionEvaluator.budgetBucket(scope: scope, periodKey: periodKey) }
}
