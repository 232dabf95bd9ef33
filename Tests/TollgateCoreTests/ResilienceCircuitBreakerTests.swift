import Testing
import TollgateCore

private let config = CircuitBreakerConfig(failureThreshold: 5, windowSeconds: 30, cooldownSeconds: 15, halfOpenProbes: 2)

/// Admits and fails one request at `seconds`, returning the transition.
@discardableResult
private func fail(_ breaker: inout CircuitBreaker, at seconds: Double) -> BreakerTransition? {
    guard let permit = breaker.acquire(now: resilienceAt(seconds)).permit else { return nil }
    return breaker.record(.targetFailure, permit: permit, now: resilienceAt(seconds))
}

private func openedBreaker(at seconds: Double = 0) -> CircuitBreaker {
    var breaker = CircuitBreaker(config: config)
    for index in 0..<5 { fail(&breaker, at: seconds + Double(index) / 10) }
    return breaker
}

@Test func closedBreakerOpensWhenFailuresInTheWindowReachTheThreshold() {
    var breaker = CircuitBreaker(config: config)
    for second in 0..<4 {
        #expect(fail(&breaker, at: Double(second)) == nil)
    }
    #expect(breaker.failuresInWindow(now: resilienceAt(4)) == 4)
    let transition = fail(&breaker, at: 4)
    #expect(transition == BreakerTransition(from: .closed, to: .open, reason: .failureThreshold, at: resilienceAt(4)))
    #expect(breaker.phase == .open)
    #expect(breaker.openUntil == resilienceAt(19))
    #expect(breaker.openCount == 1)
}

@Test func failuresOutsideTheSlidingWindowDoNotCount() {
    var breaker = CircuitBreaker(config: config)
    for second in 0..<4 { fail(&breaker, at: Double(second)) }
    // 40 s later the first four are outside the 30 s window.
    for second in 40..<44 { #expect(fail(&breaker, at: Double(second)) == nil) }
    #expect(breaker.phase == .closed)
    #expect(breaker.failuresInWindow(now: resilienceAt(44)) == 4)
    #expect(fail(&breaker, at: 44)?.to == .open)
}

@Test func successesInBetweenDoNotResetTheFailureCount() {
    var breaker = CircuitBreaker(config: config)
    for second in 0..<4 {
        fail(&breaker, at: Double(second))
        if let permit = breaker.acquire(now: resilienceAt(Double(second))).permit {
            breaker.record(.success, permit: permit, now: resilienceAt(Double(second)))
        }
    }
    #expect(fail(&breaker, at: 5)?.to == .open)
}

@Test func clientErrorsNeverOpenTheBreaker() {
    var breaker = CircuitBreaker(config: config)
    for index in 0..<50 {
        let status = [400, 413, 422, 409][index % 4]
        guard let permit = breaker.acquire(now: resilienceAt(Double(index))).permit else {
            Issue.record("rejected while closed")
            return
        }
        #expect(breaker.record(FailureClassifier.classify(.status(status)), permit: permit, now: resilienceAt(Double(index))) == nil)
    }
    #expect(breaker.phase == .closed)
    #expect(breaker.failuresInWindow(now: resilienceAt(50)) == 0)
}

@Test func openBreakerRejectsUntilTheCooldownEndsThenLetsAProbeThrough() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    #expect(until == resilienceAt(15.4))
    #expect(breaker.acquire(now: resilienceAt(15.39)).decision == .rejected(.open(until: until)))
    #expect(!breaker.wouldAdmit(now: resilienceAt(15.39)))
    #expect(breaker.wouldAdmit(now: until))
    let admission = breaker.acquire(now: until)
    #expect(admission.permit?.isProbe == true)
    #expect(admission.transition == BreakerTransition(from: .open, to: .halfOpen, reason: .cooldownElapsed, at: until))
    #expect(breaker.phase == .halfOpen)
}

@Test func halfOpenAdmitsOnlyTheConfiguredProbesWhenManyRequestsArriveAsTheCooldownEnds() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    var admitted = 0
    var rejectedOpen = 0
    var rejectedBusy = 0
    // A burst straddling the end of the cooldown: just before, exactly at, and just after.
    for offset in [-0.001, 0, 0.001] {
        for _ in 0..<100 {
            switch breaker.acquire(now: until + .nanoseconds(Int64(offset * 1e9))).decision {
            case .admitted(let permit):
                #expect(permit.isProbe)
                admitted += 1
            case .rejected(.open): rejectedOpen += 1
            case .rejected(.probesBusy): rejectedBusy += 1
            case .rejected(.retryAfter): Issue.record("breaker never rejects with retryAfter")
            }
        }
    }
    #expect(admitted == 2)
    #expect(rejectedOpen == 100)
    #expect(rejectedBusy == 198)
    #expect(breaker.probesInFlight == 2)
}

@Test func successfulProbeClosesTheBreaker() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    let probe = breaker.acquire(now: until).permit
    let other = breaker.acquire(now: until).permit
    #expect(probe != nil && other != nil)
    guard let probe, let other else { return }
    let transition = breaker.record(.success, permit: probe, now: until + .seconds(1))
    #expect(transition == BreakerTransition(from: .halfOpen, to: .closed, reason: .probeSucceeded, at: until + .seconds(1)))
    #expect(breaker.phase == .closed)
    // The second probe's late answer belongs to the half-open period that ended: it changes nothing.
    #expect(breaker.record(.targetFailure, permit: other, now: until + .seconds(2)) == nil)
    #expect(breaker.failuresInWindow(now: until + .seconds(2)) == 0)
    #expect(breaker.acquire(now: until + .seconds(2)).permit?.isProbe == false)
}

@Test func failedProbeReopensForAnotherCooldown() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    guard let probe = breaker.acquire(now: until).permit else {
        Issue.record("no probe admitted")
        return
    }
    let transition = breaker.record(.targetFailure, permit: probe, now: until + .seconds(3))
    #expect(transition == BreakerTransition(from: .halfOpen, to: .open, reason: .probeFailed, at: until + .seconds(3)))
    #expect(breaker.openUntil == until + .seconds(18))
    #expect(breaker.openCount == 2)
    #expect(breaker.acquire(now: until + .seconds(17)).permit == nil)
}

@Test func clientErrorOnAProbeProvesTheTargetIsUp() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    guard let probe = breaker.acquire(now: until).permit else { Issue.record("no probe admitted"); return }
    #expect(breaker.record(.clientError, permit: probe, now: until)?.to == .closed)
}

@Test func outcomesOfRequestsAdmittedBeforeAStateChangeAreIgnored() {
    var breaker = CircuitBreaker(config: config)
    let slow = breaker.acquire(now: resilienceAt(0)).permit
    for index in 0..<5 { fail(&breaker, at: 1 + Double(index) / 10) }
    #expect(breaker.phase == .open)
    guard let slow, let probe = breaker.acquire(now: resilienceAt(30)).permit else { Issue.record("setup failed"); return }
    // The slow request from the closed period answers while half-open: neither closes nor reopens.
    #expect(breaker.record(.success, permit: slow, now: resilienceAt(31)) == nil)
    #expect(breaker.record(.targetFailure, permit: slow, now: resilienceAt(31)) == nil)
    #expect(breaker.phase == .halfOpen)
    #expect(breaker.record(.success, permit: probe, now: resilienceAt(32))?.to == .closed)
}

@Test func cancelledProbeFreesItsSlot() {
    var breaker = openedBreaker()
    let until = breaker.openUntil ?? resilienceAt(-1)
    let first = breaker.acquire(now: until).permit
    let second = breaker.acquire(now: until).permit
    #expect(breaker.acquire(now: until).permit == nil)
    guard let first, second != nil else { Issue.record("setup failed"); return }
    #expect(breaker.record(.neutral, permit: first, now: until) == nil)
    #expect(breaker.acquire(now: until).permit?.isProbe == true)
    #expect(breaker.acquire(now: until).permit == nil)
}

@Test(arguments: [
    (200, .success), (201, .success), (304, .success),
    (400, .clientError), (413, .clientError), (422, .clientError),
    (401, .targetFailure), (403, .targetFailure), (404, .targetFailure), (408, .targetFailure), (429, .targetFailure),
    (500, .targetFailure), (502, .targetFailure), (503, .targetFailure), (504, .targetFailure), (0, .targetFailure),
] as [(Int, OutcomeClass)])
func statusCodesAreClassifiedForTheBreaker(status: Int, expected: OutcomeClass) {
    #expect(FailureClassifier.classify(.status(status)) == expected)
}

@Test func transportErrorsCountAndCancellationsDoNot() {
    #expect(FailureClassifier.classify(.connectError) == .targetFailure)
    #expect(FailureClassifier.classify(.timeout) == .targetFailure)
    #expect(FailureClassifier.classify(.connectionReset) == .targetFailure)
    #expect(FailureClassifier.classify(.cancelled) == .neutral)
    #expect(FailureClassifier.isRetryable(.status(503), responseStarted: false))
    #expect(!FailureClassifier.isRetryable(.connectionReset, responseStarted: true))
    #expect(!FailureClassifier.isRetryable(.status(400), responseStarted: false))
}

@Test func breakerConfigValidationNamesEachField() {
    #expect(CircuitBreakerConfig.default.validate() == [])
    let problems = CircuitBreakerConfig(failureThreshold: 0, windowSeconds: -1, cooldownSeconds: .infinity, halfOpenProbes: 0).validate()
    #expect(problems.map { $0.prefix { $0 != ":" } } == ["failure_threshold", "window_s", "cooldown_s", "half_open_probes"])
}
