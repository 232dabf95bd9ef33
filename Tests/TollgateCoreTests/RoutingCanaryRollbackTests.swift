import Testing
import TollgateCore

private let rule = RollbackConfig(maxErrorRate: 0.2, minRequests: 10, windowSeconds: 60)

@Test func rollbackWaitsForMinRequestsEvenWhenEverythingFails() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rule])
    for second in 0..<9 {
        #expect(monitor.record(variant: 1, failed: true, latency: .milliseconds(5), now: resilienceAt(Double(second))) == nil)
    }
    let decision = monitor.record(variant: 1, failed: true, latency: .milliseconds(5), now: resilienceAt(9))
    #expect(decision?.variant == 1)
    #expect(decision?.requests == 10)
    #expect(decision?.errors == 10)
    #expect(monitor.rolledBack == [1])
}

@Test func rollbackTriggersOnlyWhenTheErrorRateExceedsTheThreshold() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rule])
    // 2 errors in 10 is exactly 20%: at the threshold, not above it.
    for index in 0..<10 {
        #expect(monitor.record(variant: 1, failed: index < 2, latency: .zero, now: resilienceAt(Double(index))) == nil)
    }
    let decision = monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(10))
    #expect(decision != nil)
    #expect(decision?.errors == 3)
    #expect(decision?.requests == 11)
    #expect(abs((decision?.errorRate ?? 0) - 3.0 / 11.0) < 1e-12)
}

@Test func rollbackIsReportedOnceAndFailuresAfterItAreStillCounted() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rule])
    var decisions = 0
    for index in 0..<50 where monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(Double(index) / 10)) != nil {
        decisions += 1
    }
    #expect(decisions == 1)
    #expect(monitor.counters[1].requests == 50)
    #expect(monitor.counters[1].errors == 50)
}

@Test func failuresOlderThanTheWindowAreForgotten() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, RollbackConfig(maxErrorRate: 0.5, minRequests: 20, windowSeconds: 60)])
    for index in 0..<15 { monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(Double(index))) }
    #expect(monitor.window(variant: 1, now: resilienceAt(15)).requests == 15)
    #expect(monitor.window(variant: 1, now: resilienceAt(15)).errors == 15)
    // 70 s later the first 15 are out of the window: 15 more failures are not 20 requests.
    for index in 0..<15 {
        #expect(monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(85 + Double(index))) == nil)
    }
    #expect(monitor.window(variant: 1, now: resilienceAt(99)).requests == 15)
    for index in 0..<5 { monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(100 + Double(index))) }
    #expect(monitor.rolledBack == [1])
}

@Test func variantWithoutARollbackRuleIsCountedButNeverRolledBack() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rule])
    for index in 0..<100 {
        #expect(monitor.record(variant: 0, failed: true, latency: .milliseconds(10), now: resilienceAt(Double(index))) == nil)
    }
    #expect(monitor.rolledBack.isEmpty)
    #expect(monitor.counters[0].requests == 100)
    #expect(monitor.counters[0].latencySum == .seconds(1))
    #expect(monitor.counters[0].meanLatency == .milliseconds(10))
    #expect(monitor.record(variant: 7, failed: true, latency: .zero, now: resilienceAt(1)) == nil)  // out of range
}

@Test func theLastVariantInRotationIsNeverRolledBack() {
    var monitor = CanaryRollbackMonitor(rollbacks: [rule])
    for index in 0..<30 {
        #expect(monitor.record(variant: 0, failed: true, latency: .zero, now: resilienceAt(Double(index))) == nil)
    }
    var both = CanaryRollbackMonitor(rollbacks: [rule, rule])
    for index in 0..<30 {
        both.record(variant: 0, failed: true, latency: .zero, now: resilienceAt(Double(index)))
        both.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(Double(index)))
    }
    #expect(both.rolledBack == [0])
}

@Test func editingThePolicyLiftsTheRollbackAndKeepsCumulativeCounters() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rule])
    for index in 0..<10 { monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(Double(index))) }
    #expect(monitor.rolledBack == [1])
    monitor.reconfigure(rollbacks: [nil, rule])
    #expect(monitor.rolledBack.isEmpty)
    #expect(monitor.counters[1].requests == 10)
    #expect(monitor.window(variant: 1, now: resilienceAt(10)).requests == 0)
}

@Test func canaryFailingHalfItsRequestsIsRolledBackWithinItsWindow() {
    // 10 requests a second for two minutes through a 90/10 split whose canary fails every other request.
    let rollback = RollbackConfig(maxErrorRate: 0.2, minRequests: 20, windowSeconds: 60)
    var picker = CanaryPicker(weights: [90, 10], sticky: .none)
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, rollback])
    var random = ResilienceSeededRandom(seed: 11)
    var canaryCalls = 0
    var rolledBackAt: MonotonicInstant?
    var canaryAfterRollback = 0
    for tick in 0..<1_200 {
        let now = resilienceAt(Double(tick) / 10)
        guard let variant = picker.pick(stickyID: nil, using: &random) else { Issue.record("no variant"); return }
        if rolledBackAt != nil && variant == 1 { canaryAfterRollback += 1 }
        var failed = false
        if variant == 1 {
            canaryCalls += 1
            failed = canaryCalls % 2 == 0
        }
        if let decision = monitor.record(variant: variant, failed: failed, latency: .milliseconds(30), now: now) {
            rolledBackAt = decision.at
            picker = picker.excluding(monitor.rolledBack)
        }
    }
    #expect(rolledBackAt != nil)
    #expect((rolledBackAt ?? resilienceAt(999)) <= resilienceAt(60))
    #expect(canaryAfterRollback == 0)
}

@Test func rollbackConfigValidationNamesEachField() {
    #expect(rule.validate() == [])
    let bad = RollbackConfig(maxErrorRate: 1.5, minRequests: 0, windowSeconds: 0)
    let problems = bad.validate()
    #expect(problems.count == 3)
    #expect(problems.map { $0.prefix { $0 != ":" } } == ["max_error_rate", "min_requests", "window_s"])
}

@Test func aLateSampleIsCountedInsteadOfWipingTheCurrentBucket() {
    var monitor = CanaryRollbackMonitor(rollbacks: [nil, RollbackConfig(maxErrorRate: 0.5, minRequests: 100, windowSeconds: 60)])
    monitor.record(variant: 1, failed: false, latency: .zero, now: resilienceAt(0))
    for index in 0..<10 { monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(60 + Double(index) / 100)) }
    // A sample stamped a whole window earlier maps onto the same ring slot as the live bucket (epoch 0 vs 60).
    monitor.record(variant: 1, failed: true, latency: .zero, now: resilienceAt(0.5))
    #expect(monitor.window(variant: 1, now: resilienceAt(61)).errors == 11)
}
