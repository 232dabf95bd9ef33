import TollgateCore

/// How one attempt ended, in the terms breakers care about.
enum AttemptOutcome: Sendable {
    case success
    /// The provider answered with a status that says it is unwell or overloaded.
    case failure(status: Int, retryAfter: Double?)
    /// Connect error, timeout or reset.
    case transportFailure
    /// A 4xx caused by the request: says nothing about the provider's health.
    case clientError
}

/// Permission to send one attempt to a target (held so half-open probes can be counted).
struct AttemptPermit: Sendable {
    let target: ResolvedTarget
}

/// Breakers, retry order and backoff as the forwarder sees them.
struct ResilienceRuntime: Sendable {
    func orderedAttempts(plan: RoutePlan, policy: PolicySnapshot) -> [ResolvedTarget] {
        let total = max(plan.targets.count, 1 + policy.retries.max)
        guard !plan.targets.isEmpty else { return [] }
        return (0..<total).map { plan.targets[$0 % plan.targets.count] }
    }

    func acquire(target: ResolvedTarget, policy: PolicySnapshot) -> AttemptPermit? {
        AttemptPermit(target: target)
    }

    func record(_ permit: AttemptPermit, outcome: AttemptOutcome) {}

    func backoff(attempt: Int, policy: PolicySnapshot) async throws {
        let base = Double(policy.retries.backoffMs) * Double(1 << min(attempt - 1, 6))
        let jittered = Double.random(in: 0...max(base, 0))
        if jittered > 0 { try await Task.sleep(for: .milliseconds(Int(jittered))) }
    }
}
