import Foundation
import Logging
import TollgateCore
import TollgateStore

/// What admission granted: a reservation to settle or refund, and the rate-limit headers.
struct AdmissionTicket: Sendable {
    let reservation: Reservation?
    let headers: [(String, String)]
    let promptEstimate: Int
    let price: PriceSettings?
}

/// Rate limits and budgets for one request: admit before forwarding, settle after.
///
/// All checks go to the store in one atomic call (one Redis round trip), or, with `state.admission:
/// leased` and steady traffic against large limits, come from this replica's leases (`AdmissionLeases`:
/// capacity charged in the store ahead, no round trip). When the store is unreachable the policy's
/// `state.on_unavailable` decides: fail_closed refuses with 503, fail_open lets the request through
/// unmetered; either way a metric counts it.
struct AdmissionGate: Sendable {
    let store: any StateStore
    let metrics: GatewayMetrics
    let settler: UsageSettler
    /// Nil when the store is local (leasing would save nothing).
    let leases: AdmissionLeases?
    /// One line per second while the store is down, not one per refused request.
    let outageLog = LogThrottle()

    func admit(
        principal: Principal, policy: PolicySnapshot, servedModel: String, texts: [String], maxTokens: Int?, choices: Int = 1, logger: Logger
    ) async throws -> AdmissionTicket {
        guard let team = policy.teams[principal.team] else { throw GatewayError.invalidAPIKey() }
        let price = policy.models[servedModel]?.price
        let prompt = TokenEstimator.estimatePrompt(messages: texts)
        let reserveTokens = TokenEstimator.reservation(
            promptEstimate: prompt, maxTokens: maxTokens, defaultMaxTokens: policy.server.defaultMaxTokens, choices: choices)
        var limits: [LimitRule] = []
        if let rpm = team.rpm { limits.append(.requestsPerMinute(key: "team:rpm", limit: rpm)) }
        if let tpm = team.tpm { limits.append(.tokensPerMinute(key: "team:tpm", limit: tpm, estimatedTokens: reserveTokens)) }
        if let rpm = principal.rpm { limits.append(.requestsPerMinute(key: "key:\(principal.keyID):rpm", limit: rpm)) }
        if let tpm = principal.tpm { limits.append(.tokensPerMinute(key: "key:\(principal.keyID):tpm", limit: tpm, estimatedTokens: reserveTokens)) }
        var budgets: [BudgetRule] = []
        if let budget = team.budget {
            let reserveMicros = price.map {
                CostMath.costMicros(promptTokens: prompt, completionTokens: reserveTokens - prompt, inputPer1M: $0.inputPer1M, outputPer1M: $0.outputPer1M)
            } ?? 0
            budgets.append(BudgetRule(
                scope: "team", period: BudgetPeriod(rawValue: budget.period.rawValue) ?? .monthly,
                tokenLimit: budget.tokens.map(Int64.init), microsLimit: budget.usd.map(CostMath.micros(usd:)),
                reserveTokens: Int64(reserveTokens), reserveMicros: reserveMicros))
        }
        let request = AdmissionRequest(team: principal.team, keyID: principal.keyID, limits: limits, budgets: budgets)
        do {
            let decision: AdmissionDecision
            if let leases, policy.state.admission == .leased {
                decision = try await leases.admit(request, now: Date(), logger: logger)
            } else {
                decision = try await store.admit(request, now: Date())
            }
            switch decision {
            case .admitted(let admission):
                return AdmissionTicket(reservation: admission.reservation, headers: admission.rateLimitHeaders, promptEstimate: prompt, price: price)
            case .refused(let refusal):
                metrics.count("admission_refusals", labels: [("team", principal.team), ("reason", refusal.reasonLabel)])
                throw refusal.gatewayError(now: Date())
            }
        } catch let error as StoreError where error.isUnavailability {
            metrics.count("store_unavailable", labels: [("operation", "admit")])
            if let suppressed = outageLog.admit("admit") {
                logger.error(
                    "state store unavailable during admission",
                    metadata: [
                        "store.error": .string(error.description), "policy.on_unavailable": .string(policy.state.onUnavailable.rawValue),
                        "log.suppressed_since_last": .stringConvertible(suppressed),
                    ])
            }
            if policy.state.onUnavailable == .failOpen { return AdmissionTicket(reservation: nil, headers: [], promptEstimate: prompt, price: price) }
            throw GatewayError.stateStoreUnavailable("Rate limits and budgets cannot be checked right now; try again shortly.")
        }
    }

    /// Corrects the reservation to actual usage (or to an estimate when the provider gave none). The
    /// correction is written after the response leaves (see `UsageSettler`), so the caller does not wait.
    func settle(_ ticket: AdmissionTicket, usage: TokenUsage?, completionEstimate: Int = 0, logger: Logger) async {
        guard let reservation = ticket.reservation else { return }
        let prompt = usage?.promptTokens ?? ticket.promptEstimate
        let completion = usage?.completionTokens ?? completionEstimate
        let cost = ticket.price.map {
            CostMath.costMicros(promptTokens: prompt, completionTokens: completion, inputPer1M: $0.inputPer1M, outputPer1M: $0.outputPer1M)
        } ?? 0
        await settler.submit(.settle(reservation, UsageAmount(promptTokens: prompt, completionTokens: completion, costMicros: cost)), logger: logger)
    }

    /// Returns a failed request's reservation, also after the response.
    func refund(_ ticket: AdmissionTicket, logger: Logger) async {
        guard let reservation = ticket.reservation else { return }
        await settler.submit(.refund(reservation), logger: logger)
    }
}

extension AdmissionRefusal {
    var reasonLabel: String {
        switch self {
        case .rateLimited(_, let kind, _, _): return kind == .requests ? "rpm" : "tpm"
        case .budgetExhausted(_, _, let dimension, _): return dimension == .usd ? "budget_usd" : "budget_tokens"
        }
    }
}
