/// Everything one request must pass before it is forwarded: all rate limits and all budget
/// reservations, checked and applied together in one atomic step (one Redis round trip).
public struct AdmissionRequest: Sendable, Hashable, Codable {
    public var team: String
    /// The calling key's public id, so usage is also counted per key.
    public var keyID: String?
    public var limits: [LimitRule]
    public var budgets: [BudgetRule]
    /// How many requests of this shape to admit at once when there is room to spare (a lease the
    /// caller spends locally, see `AdmissionLeaseBook`); 1 admits this request alone.
    public var leaseMultiplier: Int

    public init(team: String, keyID: String?, limits: [LimitRule], budgets: [BudgetRule], leaseMultiplier: Int = 1) {
        self.team = team
        self.keyID = keyID
        self.limits = limits
        self.budgets = budgets
        self.leaseMultiplier = leaseMultiplier
    }

    /// The same request admitted `multiple` times over: every rate-limit cost and budget reserve
    /// multiplied (costs are normalized first, as a single admission would charge them).
    public func scaled(by multiple: Int) -> AdmissionRequest {
        AdmissionRequest(
            team: team, keyID: keyID,
            limits: limits.map {
                LimitRule(key: $0.key, kind: $0.kind, limit: $0.limit, cost: Int($0.gcra.normalizedCost($0.cost)) * multiple, windowSeconds: $0.windowSeconds)
            },
            budgets: budgets.map {
                BudgetRule(
                    scope: $0.scope, period: $0.period, tokenLimit: $0.tokenLimit, microsLimit: $0.microsLimit,
                    reserveTokens: $0.reserveTokens * Int64(multiple), reserveMicros: $0.reserveMicros * Int64(multiple))
            })
    }

    /// Bounds what one lease may pre-charge (and keeps the multiplied arithmetic far from overflow).
    public static let maximumLeaseMultiplier = 1024

    /// Why the request cannot be evaluated, or nil. Duplicate rule keys would make two checks read the
    /// same bucket and one write win, so they are refused rather than silently merged.
    public var validationError: String? {
        if team.isEmpty { return "team must not be empty" }
        // Pairwise checks: a request has a handful of rules, and this runs on every admission.
        for (index, rule) in limits.enumerated() where limits[..<index].contains(where: { $0.key == rule.key }) {
            return "limit rule keys must be unique"
        }
        for (index, rule) in budgets.enumerated()
        where budgets[..<index].contains(where: { $0.scope == rule.scope && $0.period == rule.period }) {
            return "budget scope/period pairs must be unique"
        }
        if limits.contains(where: { $0.key.isEmpty || $0.windowSeconds <= 0 || $0.windowSeconds > 86_400 }) {
            return "limit rules need a key and a window between 1 s and 1 day"
        }
        if budgets.contains(where: { $0.scope.isEmpty }) { return "budget rules need a scope" }
        if leaseMultiplier < 1 || leaseMultiplier > AdmissionRequest.maximumLeaseMultiplier {
            return "lease multiplier must be between 1 and \(AdmissionRequest.maximumLeaseMultiplier)"
        }
        return nil
    }
}
