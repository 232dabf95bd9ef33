import Foundation
import TollgateCore
import TollgateStore

enum StoreTestSupport {
    static func rpmRequest(team: String = "research", limit: Int = 20) -> AdmissionRequest {
        AdmissionRequest(team: team, keyID: "key_test", limits: [.requestsPerMinute(key: "team:rpm", limit: limit)], budgets: [])
    }

    static func budgetRequest(team: String = "research", budget: Int64 = 1000, reserve: Int64 = 150) -> AdmissionRequest {
        AdmissionRequest(
            team: team, keyID: "key_test",
            limits: [.tokensPerMinute(key: "team:tpm", limit: 1_000_000, estimatedTokens: Int(reserve))],
            budgets: [
                BudgetRule(scope: "team", period: .monthly, tokenLimit: budget, microsLimit: nil, reserveTokens: reserve, reserveMicros: 0)
            ])
    }

    /// Admits 150 tokens against a 200-token budget, starts a settle to 10 without awaiting it, then
    /// admits twice more: the third admission fits only if the settle was ordered before it.
    static func startedCorrectionIsSeenByTheNextAdmission(_ store: any StateStore) async throws -> Bool {
        let request = budgetRequest(team: "ordered", budget: 200, reserve: 150)
        guard case .admitted(let first) = try await store.admit(request, now: Date()) else { return false }
        let reservation = first.reservation
        store.startCorrection(reservation, actual: UsageAmount(promptTokens: 4, completionTokens: 6, costMicros: 0)) { _ in }
        guard isAdmitted(try await store.admit(request, now: Date())) else { return false }
        return isAdmitted(try await store.admit(request, now: Date()))
    }

    /// Fires `count` admissions at once and returns how many were admitted.
    static func concurrentAdmits(
        _ stores: [any StateStore], count: Int, request: AdmissionRequest, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> Int {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<count {
                let store = stores[index % stores.count]
                group.addTask {
                    if case .admitted = try await store.admit(request, now: now()) { return true }
                    return false
                }
            }
            var admitted = 0
            for try await ok in group where ok { admitted += 1 }
            return admitted
        }
    }

    static func record(team: String = "research", name: String = "ci") throws -> (APIKeySecret, APIKeyRecord) {
        let secret = try APIKeySecret.generate()
        let record = APIKeyRecord(id: try APIKeyID.generate(), team: team, name: name, hash: secret.hash, createdAt: Date())
        return (secret, record)
    }

    static func isAdmitted(_ decision: AdmissionDecision) -> Bool {
        if case .admitted = decision { return true }
        return false
    }

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "tollgate-store-\(UUID().uuidString)"
    }

    /// p50 and p99 in microseconds of `iterations` sequential runs of `body`.
    static func percentiles(iterations: Int, _ body: () async throws -> Void) async rethrows -> (p50: Double, p99: Double) {
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let elapsed = try await clock.measure { try await body() }
            samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[min(samples.count - 1, samples.count * 99 / 100)])
    }
}
