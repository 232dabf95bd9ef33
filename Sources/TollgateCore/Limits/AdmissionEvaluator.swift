import Foundation

/// The pure admission step: given the current bucket state, decide and say what to write.
///
/// `MemoryStore` runs it under its lock; the Redis Lua script is a line-by-line port of it
/// (`RedisScripts.admit`), and both are tested against the same scenarios. Order of checks: budgets
/// first (an exhausted budget is not worth retrying in a few seconds), then every rate limit; nothing
/// is written unless everything passes.
public enum AdmissionEvaluator {
    /// Identity of a budget bucket within a team.
    public static func budgetBucket(scope: String, periodKey: String) -> String { "\(scope)|\(periodKey)" }

    /// Microseconds since the epoch, the unit all limit math uses.
    public static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down)) }

    public static func evaluate(
        _ request: AdmissionRequest, now: Date, tat: (String) -> Int64, consumption: (String) -> BudgetConsumption
    ) -> AdmissionPlan {
        let nowMicros = micros(now)
        for rule in request.budgets {
            let periodKey = rule.period.key(at: now)
            let used = consumption(budgetBucket(scope: rule.scope, periodKey: periodKey))
            if let dimension = BudgetMath.exhaustedDimension(rule, consumed: used) {
                return AdmissionPlan(
                    decision: .refused(
                        .budgetExhausted(
                            scope: rule.scope, period: rule.period, dimension: dimension,
                            resetsAt: rule.period.end(containing: now))),
                    tatWrites: [:], budgetWrites: [:])
            }
        }
        var statuses: [LimitStatus] = []
        var tatWrites: [String: Int64] = [:]
        var refusal: (rule: LimitRule, retryAfter: Int64)?
        for rule in request.limits {
            let outcome = rule.gcra.evaluate(tat: tat(rule.key), now: nowMicros, cost: rule.cost)
            statuses.append(status(rule, outcome))
            if outcome.allowed {
                tatWrites[rule.key] = outcome.newTAT
            } else if refusal.map({ outcome.retryAfterMicros > $0.retryAfter }) ?? true {
                refusal = (rule, outcome.retryAfterMicros)
            }
        }
        if let refusal {
            return AdmissionPlan(
                decision: .refused(
                    .rateLimited(
                        rule: refusal.rule.key, kind: refusal.rule.kind,
                        retryAfterSeconds: Double(refusal.retryAfter) / 1_000_000, limits: statuses)),
                tatWrites: [:], budgetWrites: [:])
        }
        var budgetWrites: [String: BudgetConsumption] = [:]
        var reserved: [ReservedBudget] = []
        for rule in request.budgets {
            let periodKey = rule.period.key(at: now)
            let bucket = budgetBucket(scope: rule.scope, periodKey: periodKey)
            budgetWrites[bucket] = BudgetMath.reserve(rule, on: consumption(bucket))
            reserved.append(
                ReservedBudget(
                    scope: rule.scope, period: rule.period, periodKey: periodKey,
                    reserved: BudgetConsumption(tokens: rule.reserveTokens, micros: rule.reserveMicros)))
        }
        let reservation = Reservation(
            team: request.team, keyID: request.keyID, admittedAt: now,
            tokenLimits: request.limits.filter { $0.kind == .tokens }.map {
                ReservedTokenLimit(
                    key: $0.key, limit: $0.limit, windowSeconds: $0.windowSeconds,
                    reservedTokens: Int($0.gcra.normalizedCost($0.cost)))
            },
            budgets: reserved)
        return AdmissionPlan(
            decision: .admitted(Admission(reservation: reservation, limits: statuses)), tatWrites: tatWrites,
            budgetWrites: budgetWrites)
    }

    static func status(_ rule: LimitRule, _ outcome: GCRAOutcome) -> LimitStatus {
        LimitStatus(
            key: rule.key, kind: rule.kind, limit: rule.limit, remaining: outcome.remaining,
            resetAfterSeconds: Double(outcome.resetAfterMicros) / 1_000_000)
    }
}

/// What `AdmissionEvaluator` decided and the state changes to apply when admitted.
public struct AdmissionPlan: Sendable {
    public var decision: AdmissionDecision
    /// Rule key to new TAT (microseconds).
    public var tatWrites: [String: Int64]
    /// Budget bucket to new consumption.
    public var budgetWrites: [String: BudgetConsumption]
}
