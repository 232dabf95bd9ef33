import Foundation

/// What makes two requests draw on the same lease: the same team, the same rules with the same
/// limits, and the same budget ceilings in the same period instances. Per-request costs are not
/// part of it (the lease is spent in units), and neither is the key unless it has rules of its own.
struct LeaseIdentity: Sendable, Hashable {
    struct Limit: Sendable, Hashable {
        var key: String
        var limit: Int
        var windowSeconds: Int
    }

    struct Budget: Sendable, Hashable {
        var scope: String
        var periodKey: String
        var tokenLimit: Int64?
        var microsLimit: Int64?
    }

    let team: String
    let limits: [Limit]
    let budgets: [Budget]

    init(_ request: AdmissionRequest, periodKeys: [String]) {
        team = request.team
        limits = request.limits.map { Limit(key: $0.key, limit: $0.limit, windowSeconds: $0.windowSeconds) }
        budgets = zip(request.budgets, periodKeys).map {
            Budget(scope: $0.scope, periodKey: $1, tokenLimit: $0.tokenLimit, microsLimit: $0.microsLimit)
        }
    }
}

/// Capacity a store admitted ahead for several requests of one identity, spent here one request at a
/// time without a round trip.
///
/// Everything in it is already charged in the store, so spending it never takes the store's counters
/// past a ceiling; what is not spent by `expiresAt` is given back (`unspent`). The lease keeps the
/// store's figures from the moment it was granted, so the rate-limit headers it reports count this
/// replica's own use since then, not other replicas'.
public struct AdmissionLease: Sendable {
    public let grantedAt: Date
    public let expiresAt: Date
    /// Units left per limit rule (requests or tokens), in the rules' order.
    private(set) var limitUnits: [Int64]
    /// Reserve left per budget, in the budgets' order.
    private(set) var budgetUnits: [BudgetConsumption]
    private let grantedStatuses: [LimitStatus]
    private let template: AdmissionRequest
    private let periodKeys: [String]

    /// A lease from an admission of `multiple` requests' worth (`request` scaled), of which the
    /// requester itself has already taken one.
    init(granting request: AdmissionRequest, periodKeys: [String], multiple: Int, statuses: [LimitStatus], now: Date, lifetime: TimeInterval) {
        grantedAt = now
        expiresAt = now.addingTimeInterval(lifetime)
        let spare = Int64(multiple - 1)
        limitUnits = request.limits.map { $0.gcra.normalizedCost($0.cost) * spare }
        budgetUnits = request.budgets.map { BudgetConsumption(tokens: $0.reserveTokens * spare, micros: $0.reserveMicros * spare) }
        grantedStatuses = statuses
        template = request
        self.periodKeys = periodKeys
    }

    /// Takes one request's worth when every unit it needs is left, and returns its admission: a
    /// reservation of its own (settled or refunded like any other) and the headers' figures. The
    /// request has this lease's identity (the book looks it up by that), so its rules line up.
    mutating func draw(_ request: AdmissionRequest, now: Date) -> Admission? {
        guard now < expiresAt else { return nil }
        let costs = request.limits.map { $0.gcra.normalizedCost($0.cost) }
        guard zip(costs, limitUnits).allSatisfy({ $0 <= $1 }),
            zip(request.budgets, budgetUnits).allSatisfy({ $0.reserveTokens <= $1.tokens && $0.reserveMicros <= $1.micros })
        else { return nil }
        for (index, cost) in costs.enumerated() { limitUnits[index] -= cost }
        for (index, rule) in request.budgets.enumerated() {
            budgetUnits[index].tokens -= rule.reserveTokens
            budgetUnits[index].micros -= rule.reserveMicros
        }
        return admission(for: request, now: now)
    }

    /// The admission of a request that this lease's units are counted as available to.
    ///
    /// The headers' figures are the bucket as the store left it at the grant (its TAT, shared by all
    /// replicas), less the units still in the lease, refilled for the time since, and never fuller than
    /// this request's own units allow. On one replica drawing faster than the limit refills, that is
    /// exactly what admitting each request in the store would have said; drawing slower, the bucket
    /// looks fuller (the spent units were charged at the grant, and have refilled since).
    func admission(for request: AdmissionRequest, now: Date) -> Admission {
        let elapsed = max(0, AdmissionEvaluator.micros(now) - AdmissionEvaluator.micros(grantedAt))
        let statuses = zip(zip(grantedStatuses, limitUnits), request.limits).map { pair, rule in
            var (status, left) = pair
            let gcra = rule.gcra
            let interval = gcra.emissionIntervalMicros
            let grantedReset = Int64((status.resetAfterSeconds * 1_000_000).rounded())
            let own = min(gcra.normalizedCost(rule.cost), Int64(max(1, rule.limit))) * interval
            let reset = max(own, grantedReset - left * interval - elapsed)
            status.remaining = Int(max(0, min(Int64(status.limit), (gcra.toleranceMicros - reset) / interval)))
            status.resetAfterSeconds = Double(reset) / 1_000_000
            return status
        }
        return Admission(reservation: Reservation(admitting: request, periodKeys: periodKeys, at: now), limits: statuses)
    }

    /// What was charged and not spent, as a reservation to refund (nil when nothing is left).
    public var unspent: Reservation? {
        guard limitUnits.contains(where: { $0 > 0 }) || budgetUnits.contains(where: { $0.tokens > 0 || $0.micros > 0 }) else { return nil }
        return Reservation(
            team: template.team, keyID: nil, admittedAt: grantedAt,
            tokenLimits: zip(template.limits, limitUnits).map { rule, left in
                ReservedTokenLimit(key: rule.key, limit: rule.limit, windowSeconds: rule.windowSeconds, reservedTokens: Int(left))
            },
            budgets: zip(zip(template.budgets, periodKeys), budgetUnits).map { pair, left in
                ReservedBudget(scope: pair.0.scope, period: pair.0.period, periodKey: pair.1, reserved: left)
            })
    }
}
