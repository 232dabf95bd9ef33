import Foundation
import Testing
import TollgateCore

struct LimitsBudgetTests {
    func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func dailyPeriodsEndAtUTCMidnight() {
        let late = utc("2026-11-26T23:59:59Z")
        #expect(BudgetPeriod.daily.key(at: late) == "d2026-11-26")
        #expect(BudgetPeriod.daily.key(at: utc("2026-11-27T00:00:00Z")) == "d2026-11-27")
        #expect(BudgetPeriod.daily.start(containing: late) == utc("2026-11-26T00:00:00Z"))
        #expect(BudgetPeriod.daily.end(containing: late) == utc("2026-11-27T00:00:00Z"))
    }

    @Test func monthlyPeriodsRollOverYearAndLeapFebruary() {
        #expect(BudgetPeriod.monthly.key(at: utc("2026-12-31T23:00:00Z")) == "m2026-12")
        #expect(BudgetPeriod.monthly.end(containing: utc("2026-12-31T23:00:00Z")) == utc("2027-01-01T00:00:00Z"))
        #expect(BudgetPeriod.monthly.end(containing: utc("2024-02-29T12:00:00Z")) == utc("2024-03-01T00:00:00Z"))
        #expect(BudgetPeriod.monthly.start(containing: utc("2024-02-29T12:00:00Z")) == utc("2024-02-01T00:00:00Z"))
    }

    @Test func totalPeriodNeverResets() {
        #expect(BudgetPeriod.total.key(at: utc("2026-01-01T00:00:00Z")) == BudgetPeriod.total.key(at: utc("2031-06-01T00:00:00Z")))
        #expect(BudgetPeriod.total.end(containing: Date()) == nil)
    }

    @Test func civilDateMatchesFoundationCalendarInUTC() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // From 1700 on: Foundation's Gregorian calendar switches to Julian dates before 1582.
        for days in stride(from: -98_000, through: 800_000, by: 997) {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400 + 43_200)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let civil = UTCCivilDate(date)
            #expect(civil == UTCCivilDate(year: parts.year!, month: parts.month!, day: parts.day!))
            #expect(civil.daysSinceEpoch == days)
        }
    }

    func rule(tokens: Int64?, usd: Int64? = nil, reserve: Int64, micros: Int64 = 0, period: BudgetPeriod = .daily) -> BudgetRule {
        BudgetRule(scope: "team", period: period, tokenLimit: tokens, microsLimit: usd, reserveTokens: reserve, reserveMicros: micros)
    }

    @Test func reservationsOvershootByAtMostOneReservation() {
        let budget = rule(tokens: 1000, reserve: 150)
        var consumed = BudgetConsumption()
        var admitted = 0
        for _ in 0..<30 where BudgetMath.exhaustedDimension(budget, consumed: consumed) == nil {
            consumed = BudgetMath.reserve(budget, on: consumed)
            admitted += 1
        }
        #expect(admitted == 7)
        #expect(consumed.tokens == 1050)
        #expect(consumed.tokens - 1000 < budget.reserveTokens)
    }

    @Test func settleReplacesTheReservationByActualUseAndRefundReturnsIt() {
        let reserved = BudgetConsumption(tokens: 500, micros: 900)
        let afterReserve = BudgetConsumption(tokens: 700, micros: 1000)
        let settled = BudgetMath.settle(afterReserve, reserved: reserved, actual: BudgetConsumption(tokens: 120, micros: 300))
        #expect(settled == BudgetConsumption(tokens: 320, micros: 400))
        #expect(BudgetMath.refund(afterReserve, reserved: reserved) == BudgetConsumption(tokens: 200, micros: 100))
        #expect(BudgetMath.refund(BudgetConsumption(tokens: 10), reserved: reserved) == BudgetConsumption())
    }

    @Test func usdCeilingIsCheckedInMicros() {
        let budget = rule(tokens: nil, usd: CostMath.micros(usd: 0.5), reserve: 0, micros: 10)
        #expect(BudgetMath.exhaustedDimension(budget, consumed: BudgetConsumption(micros: 499_999)) == nil)
        #expect(BudgetMath.exhaustedDimension(budget, consumed: BudgetConsumption(micros: 500_000)) == .usd)
    }

    @Test func costIsTokensTimesPricePerMillionInMicros() {
        #expect(CostMath.costMicros(promptTokens: 1000, completionTokens: 500, inputPer1M: 0.15, outputPer1M: 0.60) == 450)
        #expect(CostMath.costMicros(promptTokens: 1, completionTokens: 0, inputPer1M: 0.15, outputPer1M: 0) == 1)
        #expect(CostMath.costMicros(promptTokens: 10, completionTokens: 10, inputPer1M: .nan, outputPer1M: -1) == 0)
    }
}
