import Testing
import TollgateCore

struct LimitsGCRATests {
    let start: Int64 = 1_800_000_000_000_000

    @Test func burstAdmitsExactlyTheLimitThenRefusesWithRetryAfterOneInterval() {
        let gcra = GCRA(limit: 20, windowSeconds: 60)
        var tat: Int64 = 0
        var remainings: [Int] = []
        for _ in 0..<20 {
            let outcome = gcra.evaluate(tat: tat, now: start, cost: 1)
            #expect(outcome.allowed)
            tat = outcome.newTAT
            remainings.append(outcome.remaining)
        }
        #expect(remainings == Array((0..<20).reversed()))
        let refused = gcra.evaluate(tat: tat, now: start, cost: 1)
        #expect(!refused.allowed)
        #expect(refused.retryAfterMicros == 3_000_000)
        #expect(refused.resetAfterMicros == 60_000_000)
        #expect(refused.newTAT == tat)
    }

    @Test func refillAdmitsOneRequestPerEmissionInterval() {
        let gcra = GCRA(limit: 20, windowSeconds: 60)
        var tat: Int64 = 0
        for _ in 0..<20 { tat = gcra.evaluate(tat: tat, now: start, cost: 1).newTAT }
        #expect(!gcra.evaluate(tat: tat, now: start + 2_999_999, cost: 1).allowed)
        let refilled = gcra.evaluate(tat: tat, now: start + 3_000_000, cost: 1)
        #expect(refilled.allowed)
        #expect(refilled.remaining == 0)
        #expect(!gcra.evaluate(tat: refilled.newTAT, now: start + 3_000_000, cost: 1).allowed)
        // After a whole idle window the bucket is full again.
        #expect(gcra.evaluate(tat: refilled.newTAT, now: start + 63_000_000, cost: 1).remaining == 19)
    }

    @Test func resetReportsTimeUntilTheBucketIsFull() {
        let gcra = GCRA(limit: 600, windowSeconds: 60)
        let first = gcra.evaluate(tat: 0, now: start, cost: 1)
        #expect(first.resetAfterMicros == 100_000)
        #expect(first.remaining == 599)
    }

    @Test func tokenCostsConsumeProportionally() {
        let gcra = GCRA(limit: 1000, windowSeconds: 60)
        let first = gcra.evaluate(tat: 0, now: start, cost: 600)
        #expect(first.allowed && first.remaining == 400)
        let second = gcra.evaluate(tat: first.newTAT, now: start, cost: 500)
        #expect(!second.allowed)
        #expect(second.remaining == 400)
        #expect(second.retryAfterMicros == 6_000_000)  // 100 tokens at 60 ms each
    }

    @Test func oversizeRequestPassesWhenIdleAndLeavesDebt() {
        let gcra = GCRA(limit: 100, windowSeconds: 60)
        let big = gcra.evaluate(tat: 0, now: start, cost: 150)
        #expect(big.allowed)
        #expect(big.remaining == 0)
        let next = gcra.evaluate(tat: big.newTAT, now: start, cost: 1)
        #expect(!next.allowed)
        #expect(next.retryAfterMicros == 30_600_000)
    }

    @Test func zeroLimitAlwaysRefuses() {
        let outcome = GCRA(limit: 0, windowSeconds: 60).evaluate(tat: 0, now: start, cost: 1)
        #expect(!outcome.allowed)
        #expect(outcome.retryAfterMicros == 60_000_000)
    }

    @Test func adjustGivesUnusedTokensBackAndChargesOverruns() {
        let gcra = GCRA(limit: 1000, windowSeconds: 60)
        let reserved = gcra.evaluate(tat: 0, now: start, cost: 500)
        let refunded = gcra.adjust(tat: reserved.newTAT, byUnits: -400)
        #expect(gcra.evaluate(tat: refunded, now: start, cost: 0).remaining == 900)
        let overrun = gcra.adjust(tat: reserved.newTAT, byUnits: 300)
        #expect(gcra.evaluate(tat: overrun, now: start, cost: 0).remaining == 200)
    }

    @Test func headerFormatsMatchOpenAIStyle() {
        #expect(RateLimitHeaderFormat.duration(seconds: 1) == "1s")
        #expect(RateLimitHeaderFormat.duration(seconds: 360) == "6m0s")
        #expect(RateLimitHeaderFormat.duration(seconds: 0.02) == "20ms")
        #expect(RateLimitHeaderFormat.duration(seconds: 2.5) == "2.5s")
        #expect(RateLimitHeaderFormat.duration(seconds: 0) == "0s")
        #expect(RateLimitHeaderFormat.retryAfterSeconds(2.1) == 3)
        #expect(RateLimitHeaderFormat.retryAfterSeconds(0.001) == 1)
    }

    @Test func absurdLimitsAreClampedInsteadOfOverflowing() {
        let gcra = GCRA(limit: Int.max, windowSeconds: 60)
        #expect(gcra.limit == LimitBounds.maximumRate)
        let outcome = gcra.evaluate(tat: 0, now: 1_800_000_000_000_000, cost: Int.max)
        #expect(outcome.allowed)
        #expect(gcra.adjust(tat: outcome.newTAT, byUnits: Int.min) >= 0)
    }
}
