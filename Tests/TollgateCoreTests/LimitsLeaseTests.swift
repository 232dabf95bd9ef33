import Foundation
import Testing
import TollgateCore

/// `AdmissionLeaseBook` in front of `AdmissionEvaluator` over an in-test ledger (the store), with a
/// clock the tests move.
struct LimitsLeaseTests {
    typealias Ledger = LimitsAdmissionTests.Ledger

    let start = ISO8601DateFormatter().date(from: "2026-11-26T12:00:00Z")!

    func request(rpm: Int = 6_000, tpm: Int = 600_000, tokens: Int = 100, budget: Int64? = nil, key: String = "k1") -> AdmissionRequest {
        let budgets = budget.map {
            [BudgetRule(scope: "team", period: .daily, tokenLimit: $0, microsLimit: nil, reserveTokens: Int64(tokens), reserveMicros: 0)]
        } ?? []
        return AdmissionRequest(
            team: "research", keyID: key,
            limits: [.requestsPerMinute(key: "team:rpm", limit: rpm), .tokensPerMinute(key: "team:tpm", limit: tpm, estimatedTokens: tokens)],
            budgets: budgets)
    }

    /// One admission through the book, asking the ledger when the book forwards; returns the decision,
    /// whether the ledger was asked, and what the book retired.
    func admit(
        _ request: AdmissionRequest, book: inout AdmissionLeaseBook, ledger: Ledger, at now: Date
    ) -> (decision: AdmissionDecision, forwarded: Bool, retired: Reservation?) {
        switch book.admit(request, now: now) {
        case .admitted(let admission):
            return (.admitted(admission), false, nil)
        case .forward(let forward):
            let answer = book.complete(forward, decision: ledger.admit(forward.request, at: now), now: now)
            return (answer.decision, true, answer.retired)
        }
    }

    /// Applies a refund the way both stores do.
    func refund(_ reservation: Reservation, in ledger: Ledger) {
        for limit in reservation.tokenLimits {
            guard let tat = ledger.tats[limit.key] else { continue }
            ledger.tats[limit.key] = GCRA(limit: limit.limit, windowSeconds: limit.windowSeconds).adjust(tat: tat, byUnits: -limit.reservedTokens)
        }
        for budget in reservation.budgets {
            ledger.budgets[budget.bucket] = BudgetMath.refund(ledger.budgets[budget.bucket] ?? BudgetConsumption(), reserved: budget.reserved)
        }
    }

    @Test func steadyDemandIsAdmittedLocallyAfterTheFirstRequests() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        var forwarded = 0
        for step in 0..<200 {
            let outcome = admit(request(), book: &book, ledger: ledger, at: start.addingTimeInterval(Double(step) * 0.001))
            #expect(isAdmitted(outcome.decision))
            if outcome.forwarded { forwarded += 1 }
        }
        // Demand doubles the lease size each time one runs out, up to 1/64 of rpm 6,000 (93 requests).
        #expect(forwarded < 12, "forwarded \(forwarded) of 200")
        #expect(book.leaseCount == 1)
    }

    @Test func smallLimitsAreNeverLeased() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        var admitted = 0
        for step in 0..<100 {
            let outcome = admit(request(rpm: 20), book: &book, ledger: ledger, at: start.addingTimeInterval(Double(step) * 0.001))
            #expect(outcome.forwarded)
            if isAdmitted(outcome.decision) { admitted += 1 }
        }
        #expect(admitted == 20)
        #expect(book.leaseCount == 0)
    }

    @Test func aLeaseNeverTakesTheStorePastItsLimitAndTheLastHalfIsAdmittedExactly() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        var admitted = 0
        var forwardedAfterHalf = 0
        // rpm 2,000 in a burst of 3,000 within one second (no time to refill more than ~33).
        for step in 0..<3_000 {
            let now = start.addingTimeInterval(Double(step) * 0.000_3)
            let outcome = admit(request(rpm: 2_000), book: &book, ledger: ledger, at: now)
            if isAdmitted(outcome.decision) { admitted += 1 }
            if admitted > 1_100, outcome.forwarded { forwardedAfterHalf += 1 }
        }
        let refill = Int(0.9 * 2_000 / 60) + 1
        #expect(admitted <= 2_000 + refill)
        #expect(admitted >= 2_000)
        #expect(forwardedAfterHalf > 800, "the second half goes to the store one request at a time")
    }

    @Test func unspentCapacityGoesBackWhenTheLeaseExpires() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        let big = request(budget: 10_000_000)
        for step in 0..<20 { _ = admit(big, book: &book, ledger: ledger, at: start.addingTimeInterval(Double(step) * 0.001)) }
        let bucket = AdmissionEvaluator.budgetBucket(scope: "team", periodKey: BudgetPeriod.daily.key(at: start))
        let charged = ledger.budgets[bucket]?.tokens ?? 0
        #expect(charged > 20 * 100, "a lease is charged ahead")
        #expect(book.expire(now: start.addingTimeInterval(0.5)).isEmpty)
        let unspent = book.expire(now: start.addingTimeInterval(2))
        #expect(book.leaseCount == 0)
        for reservation in unspent { refund(reservation, in: ledger) }
        #expect((ledger.budgets[bucket]?.tokens ?? -1) == Int64(20 * 100), "after the return the store holds exactly what was admitted")
    }

    @Test func aNewLeaseRetiresTheOldOnesRemainder() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        // Leases of 2, 4 and 8 requests: after the eighth request the last lease has 7 left.
        for step in 0..<8 { _ = admit(request(tokens: 10), book: &book, ledger: ledger, at: start.addingTimeInterval(Double(step) * 0.001)) }
        // Too large for what is left: forwarded, and the new lease it gets replaces the old one.
        let large = admit(request(tokens: 500), book: &book, ledger: ledger, at: start.addingTimeInterval(0.01))
        #expect(large.forwarded)
        let retired = large.retired?.tokenLimits.map(\.reservedTokens)
        #expect(retired == [7, 70], "the old lease's 7 requests and 70 tokens go back")
        #expect(book.leaseCount == 1)
    }

    /// The same requests through the book and straight into a second ledger, at `spacing` seconds.
    func headerPairs(spacing: TimeInterval) -> [(leased: LimitStatus, exact: LimitStatus, local: Bool)] {
        var book = AdmissionLeaseBook()
        let leased = Ledger()
        let exact = Ledger()
        var pairs: [(LimitStatus, LimitStatus, Bool)] = []
        for step in 0..<40 {
            let now = start.addingTimeInterval(Double(step) * spacing)
            let outcome = admit(request(rpm: 6_000), book: &book, ledger: leased, at: now)
            guard case .admitted(let fromLease) = outcome.decision, case .admitted(let fromStore) = exact.admit(request(rpm: 6_000), at: now),
                let got = fromLease.limits.tightest(.requests), let want = fromStore.limits.tightest(.requests)
            else { return [] }
            pairs.append((got, want, !outcome.forwarded))
        }
        return pairs
    }

    @Test func headersMatchExactAdmissionWhileRequestsComeFasterThanTheRefill() {
        let pairs = headerPairs(spacing: 0.000_1)  // rpm 6,000 refills one request per 10 ms
        #expect(pairs.count == 40)
        #expect(pairs.filter(\.local).count > 30)
        for (index, pair) in pairs.enumerated() {
            #expect(pair.leased.remaining == pair.exact.remaining, "request \(index)")
            #expect(abs(pair.leased.resetAfterSeconds - pair.exact.resetAfterSeconds) < 0.000_01, "request \(index)")
        }
    }

    @Test func headersOfSlowRequestsLookAtMostOneLeaseFullerThanExact() {
        let pairs = headerPairs(spacing: 0.004)
        #expect(pairs.filter(\.local).count > 20)
        for (index, pair) in pairs.enumerated() {
            #expect(pair.leased.remaining <= 5_999, "request \(index): a request's own unit is never shown as free")
            #expect(pair.leased.remaining >= pair.exact.remaining, "request \(index)")
            #expect(pair.leased.remaining - pair.exact.remaining <= 6_000 / 64, "request \(index)")
        }
    }

    /// A book whose identity has demand enough to ask for a lease, and no lease held (returned).
    func bookReadyToAsk(_ ledger: Ledger) -> AdmissionLeaseBook {
        var book = AdmissionLeaseBook()
        for step in 0..<4 { _ = admit(request(), book: &book, ledger: ledger, at: start.addingTimeInterval(Double(step) * 0.001)) }
        _ = book.returnAll()
        return book
    }

    @Test func onlyOneLeaseIsAskedForAtATime() {
        var book = bookReadyToAsk(Ledger())
        let now = start.addingTimeInterval(0.01)
        guard case .forward(let first) = book.admit(request(), now: now), case .forward(let second) = book.admit(request(), now: now) else {
            Issue.record("expected both to be forwarded")
            return
        }
        #expect(first.request.leaseMultiplier > 1)
        #expect(second.request.leaseMultiplier == 1)
        book.abandon(first)
        guard case .forward(let third) = book.admit(request(), now: now) else { return }
        #expect(third.request.leaseMultiplier > 1, "an abandoned ask frees the identity")
    }

    @Test func aLeaseGrantedAfterALongWaitIsStillKept() {
        let ledger = Ledger()
        var book = bookReadyToAsk(ledger)
        let asked = start.addingTimeInterval(0.01)
        guard case .forward(let forward) = book.admit(request(), now: asked), forward.request.leaseMultiplier > 1 else {
            Issue.record("expected a lease request")
            return
        }
        // The store answers only after the sweeper has run past the identity's idle window.
        let answered = asked.addingTimeInterval(5)
        _ = book.expire(now: answered)
        let outcome = book.complete(forward, decision: ledger.admit(forward.request, at: answered), now: answered)
        #expect(isAdmitted(outcome.decision))
        #expect(book.leaseCount == 1, "capacity charged in the store is held, to be spent or returned")
    }

    @Test func aBudgetPeriodBoundaryStartsANewLease() {
        var book = AdmissionLeaseBook()
        let ledger = Ledger()
        let midnight = ISO8601DateFormatter().date(from: "2026-11-26T23:59:59Z")!
        for step in 0..<10 { _ = admit(request(budget: 100_000_000), book: &book, ledger: ledger, at: midnight.addingTimeInterval(0.9 + Double(step) * 0.001)) }
        let after = admit(request(budget: 100_000_000), book: &book, ledger: ledger, at: midnight.addingTimeInterval(1.1))
        #expect(after.forwarded, "the lease of yesterday's budget cannot admit into today's")
    }

    @Test func aTeamWithoutLimitsOrBudgetsIsNeverLeasedOrTracked() {
        var book = AdmissionLeaseBook()
        let free = AdmissionRequest(team: "research", keyID: "k1", limits: [], budgets: [])
        for step in 0..<50 {
            guard case .forward(let forward) = book.admit(free, now: start.addingTimeInterval(Double(step) * 0.001)) else {
                Issue.record("a request with nothing to check goes to the store (which answers it without a round trip)")
                return
            }
            #expect(forward.request.leaseMultiplier == 1)
        }
        #expect(book.leaseCount == 0)
    }

    @Test func budgetsLeaseAtMostATinyShare() {
        let book = AdmissionLeaseBook()
        #expect(book.leaseMultiple(for: request(budget: 1_000), demand: 500) == 1)
        #expect(book.leaseMultiple(for: request(budget: 1_024_000), demand: 500) == 10)
        #expect(book.leaseMultiple(for: request(rpm: 999), demand: 500) == 1)
        #expect(book.leaseMultiple(for: request(rpm: 64_000, tpm: 100_000_000), demand: 500) == 256)
    }

    @Test func theEvaluatorGrantsALeaseOnlyWhileHalfOfEveryLimitIsLeft() {
        let ledger = Ledger()
        var leased = request(rpm: 100)
        leased.leaseMultiplier = 10
        var multiples: [Int] = []
        for _ in 0..<12 {
            guard case .admitted(let admission) = ledger.admit(leased, at: start) else { break }
            multiples.append(admission.leasedMultiple)
        }
        // 10 + 10 + 10 + 10 + 10 = 50 is half of 100; then one at a time until the limit.
        #expect(multiples == [10, 10, 10, 10, 10, 1, 1, 1, 1, 1, 1, 1])
    }

    func isAdmitted(_ decision: AdmissionDecision) -> Bool {
        if case .admitted = decision { return true }
        return false
    }
}
