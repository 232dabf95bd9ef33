import Synchronization
import Testing
import TollgateCore

private let primary = TargetID(provider: "openai", model: "gpt-4o")
private let backup = TargetID(provider: "backup", model: "gpt-4o")

private func openPrimary(_ registry: BreakerRegistry, failures: Int, at seconds: Double) {
    for _ in 0..<failures {
        guard let permit = registry.acquire(primary, now: resilienceAt(seconds)).permit else { return }
        registry.record(primary, permit: permit, outcome: .status(500), now: resilienceAt(seconds))
    }
}

@Test func concurrentRequestsAsTheCooldownEndsAdmitOnlyTheConfiguredProbes() async {
    let registry = BreakerRegistry(config: CircuitBreakerConfig(failureThreshold: 3, windowSeconds: 10, cooldownSeconds: 5, halfOpenProbes: 3))
    openPrimary(registry, failures: 3, at: 0)
    #expect(!registry.isAvailable(primary, now: resilienceAt(4.9)))
    let admitted = await withTaskGroup(of: Bool.self) { group in
        for _ in 0..<500 {
            group.addTask { registry.acquire(primary, now: resilienceAt(5)).permit != nil }
        }
        var count = 0
        for await wasAdmitted in group where wasAdmitted { count += 1 }
        return count
    }
    #expect(admitted == 3)
    #expect(registry.snapshot(now: resilienceAt(5)).first?.phase == .halfOpen)
    #expect(registry.snapshot(now: resilienceAt(5)).first?.probesInFlight == 3)
}

@Test func everyTransitionReachesTheCallbackOnce() {
    let seen = TransitionLog()
    let registry = BreakerRegistry(config: CircuitBreakerConfig(failureThreshold: 2, windowSeconds: 10, cooldownSeconds: 5, halfOpenProbes: 1)) {
        target, transition in seen.append("\(target) \(transition.from.rawValue)->\(transition.to.rawValue) \(transition.reason.rawValue)")
    }
    openPrimary(registry, failures: 2, at: 0)
    if let probe = registry.acquire(primary, now: resilienceAt(6)).permit {
        registry.record(primary, permit: probe, outcome: .status(200), now: resilienceAt(6))
    }
    #expect(seen.lines == [
        "openai/gpt-4o closed->open failure_threshold",
        "openai/gpt-4o open->half_open cooldown_elapsed",
        "openai/gpt-4o half_open->closed probe_succeeded",
    ])
}

@Test func retryAfterKeepsATargetOutUntilItsDeadlineAndTheLaterDeadlineWins() {
    let registry = BreakerRegistry()
    registry.setNotBefore(primary, until: resilienceAt(10))
    registry.setNotBefore(primary, until: resilienceAt(5))  // an earlier deadline does not shorten it
    #expect(registry.acquire(primary, now: resilienceAt(9.9)).decision == .rejected(.retryAfter(until: resilienceAt(10))))
    #expect(!registry.isAvailable(primary, now: resilienceAt(9.9)))
    #expect(registry.snapshot(now: resilienceAt(9)).first?.notBefore == resilienceAt(10))
    #expect(registry.acquire(backup, now: resilienceAt(9.9)).permit != nil)
    #expect(registry.acquire(primary, now: resilienceAt(10)).permit != nil)
    #expect(registry.snapshot(now: resilienceAt(10)).first { $0.target == primary }?.notBefore == nil)
}

@Test func snapshotReportsEveryTargetSortedAndRetainDropsRemovedOnes() {
    let registry = BreakerRegistry(config: CircuitBreakerConfig(failureThreshold: 5, windowSeconds: 30, cooldownSeconds: 15, halfOpenProbes: 1))
    openPrimary(registry, failures: 2, at: 1)
    _ = registry.acquire(backup, now: resilienceAt(1))
    let snapshot = registry.snapshot(now: resilienceAt(2))
    #expect(snapshot.map(\.target) == [backup, primary])
    #expect(snapshot.last?.failuresInWindow == 2)
    #expect(snapshot.last?.phase == .closed)
    registry.retain(only: [backup])
    #expect(registry.snapshot(now: resilienceAt(2)).map(\.target) == [backup])
}

@Test func reloadedConfigAppliesToExistingBreakersWithoutResettingThem() {
    let registry = BreakerRegistry(config: CircuitBreakerConfig(failureThreshold: 5, windowSeconds: 30, cooldownSeconds: 15, halfOpenProbes: 1))
    openPrimary(registry, failures: 2, at: 0)
    registry.updateConfig(CircuitBreakerConfig(failureThreshold: 3, windowSeconds: 30, cooldownSeconds: 15, halfOpenProbes: 1))
    #expect(registry.snapshot(now: resilienceAt(1)).first?.failuresInWindow == 2)
    openPrimary(registry, failures: 1, at: 1)
    #expect(registry.snapshot(now: resilienceAt(1)).first?.phase == .open)
}

/// Collects transition log lines from the registry's callback, which may run on any thread.
private final class TransitionLog: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
