import Foundation

/// What a finished request actually used, from the provider's `usage` (or, for a stream cut short,
/// from the reservation or the tokens seen). Cost is in micro-USD so it adds up exactly.
public struct UsageAmount: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var costMicros: Int64

    public init(promptTokens: Int, completionTokens: Int, costMicros: Int64) {
        self.promptTokens = max(0, promptTokens)
        self.completionTokens = max(0, completionTokens)
        self.costMicros = max(0, costMicros)
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

/// Usage counters of one team or key in one period.
public struct UsageCounters: Sendable, Hashable, Codable {
    public var requests: Int64
    public var promptTokens: Int64
    public var completionTokens: Int64
    public var costMicros: Int64

    public init(requests: Int64 = 0, promptTokens: Int64 = 0, completionTokens: Int64 = 0, costMicros: Int64 = 0) {
        self.requests = requests
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costMicros = costMicros
    }

    public mutating func add(_ amount: UsageAmount) {
        requests += 1
        promptTokens += Int64(amount.promptTokens)
        completionTokens += Int64(amount.completionTokens)
        costMicros += amount.costMicros
    }

    public var costUSD: Double { Double(costMicros) / 1_000_000 }
}

/// `GET /admin/usage` material: a team's counters in one period, in total and per key id.
public struct UsageReport: Sendable, Hashable, Codable {
    public var team: String
    public var period: BudgetPeriod
    public var periodKey: String
    public var periodStart: Date?
    public var periodEnd: Date?
    public var total: UsageCounters
    public var perKey: [String: UsageCounters]

    public init(
        team: String, period: BudgetPeriod, periodKey: String, periodStart: Date?, periodEnd: Date?,
        total: UsageCounters, perKey: [String: UsageCounters]
    ) {
        self.team = team
        self.period = period
        self.periodKey = periodKey
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.total = total
        self.perKey = perKey
    }
}
