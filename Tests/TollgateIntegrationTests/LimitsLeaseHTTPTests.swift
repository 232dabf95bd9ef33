import Foundation
import Synchronization
import Testing
import TollgateCore
import TollgateServer
import TollgateStore
import TollgateUpstream

/// Admission leases through real HTTP and a real Redis: large limits are admitted from capacity
/// charged ahead, and still never exceeded, across replicas; what a lease leaves unspent goes back.
@Suite(.serialized) struct LimitsLeaseHTTPTests {
    init() { ProviderKeyEnvironment.install() }

    /// Sends `total` chat requests from `workers` sequential workers spread over `gateways`.
    private func drive(_ gateways: [RunningGateway], total: Int, workers: Int) async throws -> [RunningGateway.Reply] {
        final class Ticket: Sendable { let next = Atomic<Int>(0) }
        let ticket = Ticket()
        return try await withThrowingTaskGroup(of: [RunningGateway.Reply].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var replies: [RunningGateway.Reply] = []
                    while ticket.next.wrappingAdd(1, ordering: .relaxed).oldValue < total {
                        replies.append(try await gateways[worker % gateways.count].chat("m0", extra: #","max_tokens":50"#))
                    }
                    return replies
                }
            }
            var all: [RunningGateway.Reply] = []
            for try await replies in group { all += replies }
            return all
        }
    }

    /// `/admin/status` → store.leases_held (and the admission mode must be leased).
    private func leasesHeld(_ gateway: RunningGateway) async throws -> Int? {
        let status = try await gateway.request("GET", "/admin/status", key: "test-admin-token")
        let store = status.json?["store"] as? [String: Any]
        #expect(store?["admission"] as? String == "leased")
        return store?["leases_held"] as? Int
    }

    @Test(.enabled(if: TestRedis.enabled)) func twoGatewaysWithLeasesNeverExceedALargeLimit() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 1000\n")
            try await TestRedis.withDatabase { url in
                try await GatewayHarness.withGateway(policy: policy, redisURL: url) { a in
                    try await GatewayHarness.withGateway(policy: policy, redisURL: url) { b in
                        let started = ContinuousClock.now
                        let replies = try await drive([a, b], total: 1_150, workers: 16)
                        let elapsed = seconds(since: started)
                        let admitted = replies.filter { $0.status == 200 }.count
                        let refused = replies.filter { $0.status == 429 }
                        // GCRA refills one request every 60 ms; a lease can hold back at most 1/64 of
                        // the limit per replica (15), and only while half the limit is still free.
                        let refill = Int(elapsed / 0.06) + 1
                        print("[figure] leases, two replicas, rpm 1000: \(admitted) admitted, \(refused.count) refused in \(String(format: "%.2f", elapsed)) s")
                        #expect(admitted <= 1_000 + refill, "\(admitted) admitted in \(elapsed) s")
                        #expect(admitted >= 1_000 - 2 * 15, "\(admitted) admitted")
                        #expect(admitted + refused.count == 1_150)
                        #expect(refused.allSatisfy { $0.errorCode == "rate_limit_exceeded" })
                        for gateway in [a, b] {
                            let granted = metricValue(try await gateway.metricsText(), #"tollgate_admission_leases_granted_total{team="t1"}"#) ?? 0
                            #expect(granted > 0, "each replica leased (else this tested the exact path)")
                        }
                    }
                }
            }
        }
    }

    @Test(.enabled(if: TestRedis.enabled)) func aLeasedBudgetHoldsExactlyWhatWasUsedOnceTheLeasesAreBack() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(
                mocks: mocks, teamExtra: "    rpm: 100000\n    tpm: 100000000\n    budget: {tokens: 100000000, period: monthly}\n")
            try await TestRedis.withDatabase { url in
                try await GatewayHarness.withGateway(policy: policy, redisURL: url) { gw in
                    let replies = try await drive([gw], total: 300, workers: 4)
                    #expect(replies.allSatisfy { $0.status == 200 })
                    let granted = metricValue(try await gw.metricsText(), #"tollgate_admission_leases_granted_total{team="t1"}"#) ?? 0
                    #expect(granted > 0)
                    #expect(try await leasesHeld(gw) == 1)
                    // Leases live one second and are swept every 250 ms; settles land within a round trip.
                    try await Task.sleep(for: .milliseconds(1_600))
                    #expect(try await leasesHeld(gw) == 0)
                    let usage = try await gw.request("GET", "/admin/usage?team=t1", key: nil, headers: [("authorization", "Bearer test-admin-token")])
                    let total = (usage.json?["total"] as? [String: Any]) ?? [:]
                    #expect(total["requests"] as? Int == 300)
                    let store = RedisStore(configuration: try RedisStoreConfiguration(url: url))
                    let consumed = try await store.budgetConsumption(team: "t1", scope: "team", period: .monthly, now: Date())
                    await store.shutdown()
                    #expect(consumed.tokens == Int64(total["total_tokens"] as? Int ?? -1), "the budget holds what was used, no lease left in it")
                }
            }
        }
    }

    @Test(.enabled(if: RedisFailureTests.enabled)) func aKilledRedisIsFailedClosedAtOnceEvenWithALeaseInHand() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 100000\n")
            try await TestRedis.withPrivateServer { redis in
                try await GatewayHarness.withGateway(policy: policy, redisURL: redis.url) { gw in
                    let warm = try await drive([gw], total: 60, workers: 2)
                    #expect(warm.allSatisfy { $0.status == 200 })
                    #expect(try await leasesHeld(gw) == 1)
                    redis.kill()
                    try await Task.sleep(for: .milliseconds(200))
                    // The lease is still held and unexpired, but Redis is known to be down: the
                    // policy's fail mode decides, as it would without leases.
                    let down = try await drive([gw], total: 10, workers: 1)
                    #expect(down.allSatisfy { $0.status == 503 && $0.errorCode == "state_store_unavailable" }, "\(down.map(\.status))")
                    try redis.start()
                    var served = false
                    let restarted = ContinuousClock.now
                    while !served && seconds(since: restarted) < 15 {
                        served = try await gw.chat("m0").status == 200
                        if !served { try await Task.sleep(for: .milliseconds(200)) }
                    }
                    #expect(served, "requests are admitted again once Redis is back")
                }
            }
        }
    }

    @Test(.enabled(if: TestRedis.enabled)) func exactAdmissionAsksRedisForEveryRequest() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "state: {admission: exact}\n", teamExtra: "    rpm: 100000\n")
            try await TestRedis.withDatabase { url in
                try await GatewayHarness.withGateway(policy: policy, redisURL: url) { gw in
                    let replies = try await drive([gw], total: 100, workers: 2)
                    #expect(replies.allSatisfy { $0.status == 200 })
                    let granted = metricValue(try await gw.metricsText(), #"tollgate_admission_leases_granted_total{team="t1"}"#)
                    #expect(granted == nil)
                }
            }
        }
    }
}
