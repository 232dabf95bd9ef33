import Testing
import TollgateCore

private let rollback = RollbackConfig(maxErrorRate: 0.2, minRequests: 10, windowSeconds: 60)

private func failCanary(_ split: CanarySplit, times: Int) -> Int {
    var decisions = 0
    for index in 0..<times where split.record(variant: 1, failed: true, latency: .milliseconds(20), now: resilienceAt(Double(index))) != nil {
        decisions += 1
    }
    return decisions
}

@Test func splitExcludesARolledBackVariantImmediately() {
    let split = CanarySplit(model: "gpt-4o", config: CanaryConfig(weights: [90, 10], sticky: .key), rollbacks: [nil, rollback])
    #expect(failCanary(split, times: 30) == 1)
    var random = ResilienceSeededRandom(seed: 1)
    #expect((0..<1_000).allSatisfy { split.pick(stickyID: "key_\($0)", using: &random) == 0 })
    let status = split.status(now: resilienceAt(30))
    #expect(status.map(\.effectiveWeight) == [90, 0])
    #expect(status.map(\.rolledBack) == [false, true])
    #expect(status[1].counters.requests == 30)
    #expect(status[1].windowErrors == 30)
}

@Test func splitKeepsEachStickyKeyOnOneVariant() {
    let split = CanarySplit(model: "gpt-4o", config: CanaryConfig(weights: [50, 50], sticky: .key), rollbacks: [])
    var random = ResilienceSeededRandom(seed: 2)
    for key in (0..<20).map({ "key_\($0)" }) {
        let picks = Set((0..<100).map { _ in split.pick(stickyID: key, using: &random) })
        #expect(picks.count == 1)
    }
}

@Test func reloadWithAnUnchangedCanaryKeepsTheRollback() {
    let config = CanaryConfig(weights: [90, 10], sticky: .key)
    let first = CanarySplit(model: "gpt-4o", config: config, rollbacks: [nil, rollback])
    _ = failCanary(first, times: 10)
    let reloaded = CanarySplit(model: "gpt-4o", config: config, rollbacks: [nil, rollback], previous: first)
    #expect(reloaded.status(now: resilienceAt(10)).map(\.rolledBack) == [false, true])
}

@Test func editingTheCanaryLiftsTheRollbackButKeepsCounters() {
    let first = CanarySplit(model: "gpt-4o", config: CanaryConfig(weights: [90, 10], sticky: .key), rollbacks: [nil, rollback])
    _ = failCanary(first, times: 10)
    let edited = CanarySplit(model: "gpt-4o", config: CanaryConfig(weights: [95, 5], sticky: .key), rollbacks: [nil, rollback], previous: first)
    let status = edited.status(now: resilienceAt(10))
    #expect(status.map(\.rolledBack) == [false, false])
    #expect(status.map(\.effectiveWeight) == [95, 5])
    #expect(status[1].counters.errors == 10)
}
