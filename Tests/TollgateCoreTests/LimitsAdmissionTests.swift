import Foundation
import Testing
import TollgateCore

/// Drives `AdmissionEvaluator` over an in-test state, the way `MemoryStore` does under its lock.
struct LimitsAdmissionTests {
    final class Ledger {
        var tats: [String: Int64] = [:]
        var budgets: [String: BudgetConsumption] = [:]

        func admit(_ request: AdmissionRequest, at now: Date) -> AdmissionDecision {
            let plan = AdmissionEvaluator.evaluate(
                request, now: now, tat: { self.tats[$0] ?? 0 }, consumption: { self.budgets[$0] ?? BudgetConsumption() })
            tats.merge(plan.tatWrites) { _, new in new }
            budgets.merge(plan.budgetWrites) { _, new in new }
            return plan.decision
        }
    }

    let now = ISO8601DateFormatter().date(from: "2026-11-26T23:59:50Z")!

    func request(teamRPM: Int = 100, keyRPM: Int? = nil, tokens: Int = 10, budget: Int64? = nil) -> AdmissionRequest {
        var limits = [LimitRule.requestsPerMinute(key: "team:rpm", limit: teamRPM)]
        if let keyRPM { limits.append(.requestsPerMinute(key: "key:k1:rpm", limit: keyRPM)) }
        limits.append(.tokensPerMinute(key: "team:tpm", limit: 100_000, estimatedTokens: tokens))
        let budgets = budget.map {
            [BudgetRule(scope: "team", period: .daily, tokenLimit: $0, microsLimit: nil, reserveTokens: Int64(tokens), reserveMicros: 0)]
        } ?? []
        return AdmissionRequest(team: "research", keyID: "k1", limits: limits, budgets: budgets)
    }

    @Test func refusalByAnyRuleWritesNothing() {
        let ledger = Ledger()
        #expect(isAdmitted(ledger.admit(request(keyRPM: 1), at: now)))
        let teamTAT = ledger.tats["team:rpm"]
        guard case .refused(.rateLimited(let rule, let kind, let retry, _)) = ledger.admit(request(keyRPM: 1), at: now) else {
            Issue.record("expected a rate-limit refusal")
            return
        }
        #expect(rule == "key:k1:rpm" && kind == .requests && retry == 60)
        #expect(ledger.tats["team:rpm"] == teamTAT)
    }

    @Test func budgetExhaustionWinsOverRateLimitsAndNamesTheBoundary() {
        let ledger = Ledger()
        #expect(isAdmitted(ledger.admit(request(teamRPM: 1, tokens: 100, budget: 50), at: now)))
        guard case .refused(.budgetExhausted(let scope, let period, let dimension, let resetsAt)) =
            ledger.admit(request(teamRPM: 1, tokens: 100, budget: 50), at: now)
        else {
            Issue.record("expected budget refusal")
            return
        }
        #expect(scope == "team" && period == .daily && dimension == .tokens)
        #expect(resetsAt == ISO8601DateFormatter().date(from: "2026-11-27T00:00:00Z"))
    }

    @Test func budgetResetsAtThePeriodBoundary() {
        let ledger = Ledger()
        #expect(isAdmitted(ledger.admit(request(tokens: 100, budget: 100), at: now)))
        #expect(!isAdmitted(ledger.admit(request(tokens: 100, budget: 100), at: now.addingTimeInterval(9))))
        #expect(isAdmitted(ledger.admit(request(tokens: 100, budget: 100), at: now.addingTimeInterval(10))))
    }

    @Test func reservationRecordsWhatToCorrectLater() {
        let ledger = Ledger()
        guard case .admitted(let admission) = ledger.admit(request(tokens: 42, budget: 1000), at: now) else {
            Issue.record("expected admission")
            return
        }
        #expect(admission.reservation.tokenLimits == [ReservedTokenLimit(key: "team:tpm", limit: 100_000, windowSeconds: 60, reservedTokens: 42)])
        #expect(admission.reservation.budgets.first?.periodKey == "d2026-11-26")
        #expect(admission.reservation.budgets.first?.reserved == BudgetConsumption(tokens: 42, micros: 0))
        let headers = Dictionary(uniqueKeysWithValues: admission.rateLimitHeaders)
        #expect(headers["x-ratelimit-limit-requests"] == "100")
        #expect(headers["x-ratelimit-remaining-requests"] == "99")
        #expect(headers["x-ratelimit-remaining-tokens"] == "99958")
        #expect(headers["x-ratelimit-reset-requests"] == "600ms")
    }

    @Test func tightestLimitFeedsTheHeaders() {
        let ledger = Ledger()
        guard case .admitted(let admission) = ledger.admit(request(teamRPM: 100, keyRPM: 5), at: now) else {
            Issue.record("expected admission")
            return
        }
        #expect(admission.limits.tightest(.requests)?.key == "key:k1:rpm")
        #expect(admission.limits.tightest(.requests)?.remaining == 4)
    }

    @Test func refusalsBecomeOpenAIShaped429s() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let rate = AdmissionRefusal.rateLimited(rule: "team:rpm", kind: .requests, retryAfterSeconds: 2.2, limits: []).gatewayError(now: now)
        #expect(rate.status == 429 && rate.code == "rate_limit_exceeded" && rate.type == "requests")
        #expect(rate.headers.contains { $0 == ("retry-after", "3") })
        let tokens = AdmissionRefusal.rateLimited(rule: "team:tpm", kind: .tokens, retryAfterSeconds: 0.4, limits: []).gatewayError(now: now)
        #expect(tokens.type == "tokens" && tokens.message.contains("tokens per minute"))
        let total = AdmissionRefusal.budgetExhausted(scope: "team", period: .total, dimension: .usd, resetsAt: nil).gatewayError(now: now)
        #expect(total.status == 429 && total.type == "insufficient_quota" && total.code == "budget_exceeded")
        #expect(total.headers.contains { $0 == ("x-should-retry", "false") })
        #expect(!total.headers.contains { $0.0 == "retry-after" })
        let daily = AdmissionRefusal.budgetExhausted(
            scope: "key", period: .daily, dimension: .tokens, resetsAt: now.addingTimeInterval(3_600.2)).gatewayError(now: now)
        #expect(daily.headers.contains { $0 == ("retry-after", "3601") })
    }

    @Test func duplicateRuleKeysAreRejected() {
        let duplicated = AdmissionRequest(
            team: "t", keyID: nil,
            limits: [.requestsPerMinute(key: "a", limit: 1), .requestsPerMinute(key: "a", limit: 2)], budgets: [])
        #expect(duplicated.validationError == "limit rule keys must be unique")
        #expect(request().validationError == nil)
        let rule = BudgetRule(scope: "team", period: .daily, tokenLimit: 1, microsLimit: nil, reserveTokens: 1, reserveMicros: 0)
        var otherPeriod = rule
        otherPeriod.period = .monthly
        let twoBudgets = AdmissionRequest(team: "t", keyID: nil, limits: [], budgets: [rule, otherPeriod])
        #expect(twoBudgets.validationError == nil)
        let sameBudgetTwice = AdmissionRequest(team: "t", keyID: nil, limits: [], budgets: [rule, otherPeriod, rule])
        #expect(sameBudgetTwice.validationError == "budget scope/period pairs must be unique")
    }

    func isAdmitted(_ decision: AdmissionDecision) -> Bool {
        if case .admitted = decision { return true }
        return false
    }
}
