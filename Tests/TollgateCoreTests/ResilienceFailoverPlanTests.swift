import Testing
import TollgateCore

private let primary = TargetID(provider: "openai", model: "gpt-4o")
private let secondary = TargetID(provider: "azure", model: "gpt-4o")
private let breakerConfig = CircuitBreakerConfig(failureThreshold: 5, windowSeconds: 30, cooldownSeconds: 15, halfOpenProbes: 1)

private func attempt(_ step: FailoverPlan.Step) -> FailoverPlan.Attempt? {
    if case .attempt(let attempt) = step { return attempt }
    return nil
}

private func trip(_ target: TargetID, in registry: BreakerRegistry, at seconds: Double) {
    for _ in 0..<breakerConfig.failureThreshold {
        guard let permit = registry.acquire(target, now: resilienceAt(seconds)).permit else { return }
        registry.record(target, permit: permit, outcome: .timeout, now: resilienceAt(seconds))
    }
}

@Test func firstAttemptGoesToTheFirstTargetWithoutDelay() {
    var plan = FailoverPlan(targets: [primary, secondary])
    var random = ResilienceSeededRandom(seed: 1)
    let first = attempt(plan.next(now: resilienceAt(0), registry: BreakerRegistry(), using: &random))
    #expect(first?.target == primary)
    #expect(first?.delay == .zero)
    #expect(first?.number == 1)
}

@Test func planSkipsTargetsWithOpenBreakers() {
    let registry = BreakerRegistry(config: breakerConfig)
    trip(primary, in: registry, at: 0)
    var plan = FailoverPlan(targets: [primary, secondary])
    var random = ResilienceSeededRandom(seed: 2)
    #expect(attempt(plan.next(now: resilienceAt(1), registry: registry, using: &random))?.target == secondary)
}

@Test func planSkipsTargetsWhoseRetryAfterHasNotPassed() {
    let registry = BreakerRegistry(config: breakerConfig)
    registry.setNotBefore(primary, until: resilienceAt(20))
    var random = ResilienceSeededRandom(seed: 3)
    var during = FailoverPlan(targets: [primary, secondary])
    #expect(attempt(during.next(now: resilienceAt(19), registry: registry, using: &random))?.target == secondary)
    var after = FailoverPlan(targets: [primary, secondary])
    #expect(attempt(after.next(now: resilienceAt(20), registry: registry, using: &random))?.target == primary)
}

@Test func retriesWalkTheTargetsInOrderWrapAroundAndStopAtTheLimit() {
    let registry = BreakerRegistry(config: breakerConfig)
    var plan = FailoverPlan(targets: [primary, secondary], retries: RetryConfig(max: 2, backoffMs: 100))
    var random = ResilienceSeededRandom(seed: 4)
    var tried: [TargetID] = []
    while case .attempt(let next) = plan.next(now: resilienceAt(0), registry: registry, using: &random) {
        tried.append(next.target)
        registry.record(next.target, permit: next.permit, outcome: .status(502), now: resilienceAt(0))
    }
    #expect(tried == [primary, secondary, primary])
    #expect(plan.next(now: resilienceAt(0), registry: registry, using: &random) == .exhausted(.attemptsExhausted))
}

@Test func retriesAfterTheFirstAttemptWaitAJitteredBackoff() {
    let registry = BreakerRegistry(config: breakerConfig)
    var plan = FailoverPlan(targets: [primary], retries: RetryConfig(max: 3, backoffMs: 100))
    var random = ResilienceSeededRandom(seed: 5)
    var delays: [Duration] = []
    while case .attempt(let next) = plan.next(now: resilienceAt(0), registry: registry, using: &random) {
        delays.append(next.delay)
    }
    #expect(delays.count == 4)
    #expect(delays[0] == .zero)
    for (retry, delay) in delays.enumerated().dropFirst() {
        #expect(delay >= .zero && delay <= .milliseconds(100 << (retry - 1)))
    }
}

@Test func backoffCeilingDoublesUpToItsCapAndJitterCoversTheRange() {
    let retries = RetryConfig(max: 8, backoffMs: 100)
    #expect((0...7).map { RetryBackoff.ceilingMs(beforeRetry: $0, config: retries) } == [0, 100, 200, 400, 800, 1_000, 1_000, 1_000])
    #expect(RetryBackoff.ceilingMs(beforeRetry: 3, config: RetryConfig(max: 3, backoffMs: 100, maxBackoffMs: 250)) == 250)
    #expect(RetryBackoff.ceilingMs(beforeRetry: 1_000, config: retries) == 1_000)

    var random = ResilienceSeededRandom(seed: 6)
    let samples = (0..<2_000).map { _ in RetryBackoff.delay(beforeRetry: 3, config: retries, using: &random) }
    #expect(samples.allSatisfy { $0 >= .zero && $0 <= .milliseconds(400) })
    #expect(samples.contains { $0 < .milliseconds(40) })  // full jitter reaches near zero…
    #expect(samples.contains { $0 > .milliseconds(360) })  // …and near the ceiling
    let meanMs = samples.reduce(0.0) { $0 + Double($1.components.attoseconds) / 1e15 + Double($1.components.seconds) * 1_000 } / 2_000
    #expect(meanMs > 170 && meanMs < 230)
    #expect(RetryBackoff.delay(beforeRetry: 0, config: retries, using: &random) == .zero)
    #expect(RetryBackoff.delay(beforeRetry: 2, config: RetryConfig(max: 2, backoffMs: 0), using: &random) == .zero)
}

@Test func allPrimaryBreakersOpenDegradesToTheNamedModel() {
    let registry = BreakerRegistry(config: breakerConfig)
    trip(primary, in: registry, at: 0)
    trip(secondary, in: registry, at: 0)
    var plan = FailoverPlan(targets: [primary, secondary], degradeTo: "gpt-4o-mini")
    var random = ResilienceSeededRandom(seed: 7)
    #expect(plan.next(now: resilienceAt(1), registry: registry, using: &random) == .degrade(model: "gpt-4o-mini"))
}

@Test func allTargetsUnavailableWithoutDegradationReportsTheEarliestReopening() {
    let registry = BreakerRegistry(config: breakerConfig)
    trip(primary, in: registry, at: 0)  // open until 15
    registry.setNotBefore(secondary, until: resilienceAt(8))
    var plan = FailoverPlan(targets: [primary, secondary])
    var random = ResilienceSeededRandom(seed: 8)
    #expect(plan.next(now: resilienceAt(1), registry: registry, using: &random) == .exhausted(.allTargetsUnavailable(retryAt: resilienceAt(8))))
    var empty = FailoverPlan(targets: [])
    #expect(empty.next(now: resilienceAt(1), registry: registry, using: &random) == .exhausted(.noTargets))
}

@Test func failingPrimaryShedsTrafficToTheFallbackAndGetsItBackAfterHealing() {
    let registry = BreakerRegistry(config: breakerConfig)
    var random = ResilienceSeededRandom(seed: 9)
    var primaryHits = 0
    var served = 0
    var primaryHealthy = false

    func serve(at seconds: Double) -> TargetID? {
        var plan = FailoverPlan(targets: [primary, secondary], retries: RetryConfig(max: 1, backoffMs: 10))
        while case .attempt(let next) = plan.next(now: resilienceAt(seconds), registry: registry, using: &random) {
            if next.target == primary { primaryHits += 1 }
            let ok = next.target != primary || primaryHealthy
            registry.record(next.target, permit: next.permit, outcome: .status(ok ? 200 : 500), now: resilienceAt(seconds))
            if ok { served += 1; return next.target }
        }
        return nil
    }

    // 30 requests over 3 s while the primary answers 500: all succeed on the fallback and the primary sees
    // only the failures that open its breaker.
    for index in 0..<30 { #expect(serve(at: Double(index) / 10) == secondary) }
    #expect(served == 30)
    #expect(primaryHits == breakerConfig.failureThreshold)

    // The primary heals; after the cooldown one probe closes the breaker and traffic returns.
    primaryHealthy = true
    #expect(serve(at: 10) == secondary)
    #expect(serve(at: 20) == primary)
    #expect(serve(at: 20.1) == primary)
    #expect(primaryHits == breakerConfig.failureThreshold + 2)
}

@Test func retryAfterOnA429FailsOverAndIsRespectedUntilItPasses() {
    let registry = BreakerRegistry(config: breakerConfig)
    var random = ResilienceSeededRandom(seed: 10)
    var plan = FailoverPlan(targets: [primary, secondary])
    guard let first = attempt(plan.next(now: resilienceAt(0), registry: registry, using: &random)) else { Issue.record("no attempt"); return }
    // The provider said 429 with Retry-After: 30 (the server parses the header into seconds).
    registry.record(first.target, permit: first.permit, outcome: .status(429), now: resilienceAt(0))
    registry.setNotBefore(first.target, until: resilienceAt(0) + .seconds(30))
    #expect(attempt(plan.next(now: resilienceAt(0), registry: registry, using: &random))?.target == secondary)
    for second in stride(from: 1.0, to: 30, by: 7) {
        var later = FailoverPlan(targets: [primary, secondary])
        #expect(attempt(later.next(now: resilienceAt(second), registry: registry, using: &random))?.target == secondary)
    }
    var afterwards = FailoverPlan(targets: [primary, secondary])
    #expect(attempt(afterwards.next(now: resilienceAt(30), registry: registry, using: &random))?.target == primary)
}

@Test func retryConfigValidationNamesEachField() {
    #expect(RetryConfig.default.validate() == [])
    #expect(RetryConfig(max: -1, backoffMs: -5).validate().map { $0.prefix { $0 != ":" } } == ["max", "backoff_ms"])
    #expect(RetryConfig(max: 2, backoffMs: 100, maxBackoffMs: 50).validate() == ["max_backoff_ms: must not be smaller than backoff_ms (50 < 100)"])
}
