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

    /// With `leaseMultiplier` above 1, admits that many requests' worth when `leaseFits`, else
    /// this request alone (the same call: a lease costs no extra round trip).
    public static func evaluate(
        _ request: AdmissionRequest, now: Date, tat: (String) -> Int64, consumption: (String) -> BudgetConsumption
    ) -> AdmissionPlan {
        let multiple = request.leaseMultiplier
        if multiple > 1, leaseFits(request, multiple: multiple, now: now, tat: tat, consumption: consumption) {
            var plan = evaluateOnce(request.scaled(by: multiple), now: now, tat: tat, consumption: consumption)
            if case .admitted(var admission) = plan.decision {
                admission.leasedMultiple = multiple
                plan.decision = .admitted(admission)
                return plan
            }
        }
        return evaluateOnce(request, now: now, tat: tat, consumption: consumption)
    }

    /// A lease is granted only while every limit and budget keeps at least half its capacity after
    /// it: the second half is admitted one request at a time, so leases held by other replicas can
    /// never strand the last of a limit (which would refuse requests a single gateway would admit).
    public static func leaseFits(
        _ request: AdmissionRequest, multiple: Int, now: Date, tat: (String) -> Int64, consumption: (String) -> BudgetConsumption
    ) -> Bool {
        let nowMicros = micros(now)
        let factor = Int64(multiple)
        for rule in request.budgets {
            let used = consumption(budgetBucket(scope: rule.scope, periodKey: rule.period.key(at: now)))
            if let limit = rule.tokenLimit, 2 * (used.tokens + rule.reserveTokens * factor) > limit { return false }
            if let limit = rule.microsLimit, 2 * (used.micros + rule.reserveMicros * factor) > limit { return false }
        }
        for rule in request.limits {
            guard rule.limit > 0 else { return false }
            let gcra = rule.gcra
            let base = max(tat(rule.key), nowMicros)
            let leasedTAT = base + gcra.normalizedCost(rule.cost) * factor * gcra.emissionIntervalMicros
            if 2 * (leasedTAT - nowMicros) > gcra.toleranceMicros { return false }
        }
        return true
    }

    private static func evaluateOnce(
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
        let periodKeys = request.budgets.map { $0.period.key(at: now) }
        for (rule, periodKey) in zip(request.budgets, periodKeys) {
            let bucket = budgetBucket(scope: rule.scope, periodKey: periodKey)
            budgetWrites[bucket] = BudgetMath.reserve(rule, on: consumption(bucket))
        }
        let reservation = Reservation(admitting: request, periodKeys: periodKeys, at: now)
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
