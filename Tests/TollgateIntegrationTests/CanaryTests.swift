import Foundation
import Testing
import TollgateServer

/// Issue 5 end to end: canary splits between two mocks, sticky assignment, automatic rollback.
@Suite(.serialized) struct CanaryTests {
    init() { ProviderKeyEnvironment.install() }

    /// Extra policy keys (secret, SHA-256 hex) for sticky-by-key tests.
    static let stickyKeys: [(String, String)] = [
        ("sk-tg-sticky-test-key-0", "98b698bc24129c42a462f9b23f7dd816a5df9b10e64f5fec68f424e65a6082df"),
        ("sk-tg-sticky-test-key-1", "e38f59eded42118ad48844ee778e8db4f78b83dce780f202a8966bd591e82d07"),
        ("sk-tg-sticky-test-key-2", "333419ca35eb26ca6eef9d3adaeb1e7ea86a3720ad3dc1b110ae906736324cf1"),
        ("sk-tg-sticky-test-key-3", "75fc7553e2d8a940a33d8cb594761a65f8d688e96ed22dfd5c73e7670b3bc4b7"),
        ("sk-tg-sticky-test-key-4", "4a4342c2e85c4171172106ccb7f53173213f6edb0af04cb09b56e3f04ef34a2f"),
        ("sk-tg-sticky-test-key-5", "c50a26f094c47fd71750ffb6b1267fb137894e560ee41ddca3a1fd32cdb8e6d0"),
        ("sk-tg-sticky-test-key-6", "dc374f74792be8652ad69ccbea372fb9ee7cf4151b08e980da21cfbbcbda28de"),
        ("sk-tg-sticky-test-key-7", "53ae87697deef7e18fb618d38d7f4c3d3872c5650a2a687e2836bca09dbbbeef"),
    ]

    /// Model `split`: variant `stable` on mock 0, `canary` on mock 1.
    static func split(stable: Int, canary: Int, sticky: String, rollback: String = "") -> String {
        "  split:\n    sticky: \(sticky)\n    variants:\n"
            + "      - {name: stable, weight: \(stable), targets: [{provider: p0, model: stable-v1}]}\n"
            + "      - {name: canary, weight: \(canary), targets: [{provider: p1, model: canary-v2}]\(rollback.isEmpty ? "" : ", rollback: \(rollback)")}\n"
    }

    @Test func ninetyTenSplitSendsAboutTenPercentToTheCanary() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: Self.split(stable: 90, canary: 10, sticky: "none"))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let started = ContinuousClock.now
                let statuses = try await boundedConcurrently(count: 1000, width: 16) { i in
                    try await gw.chat("split", content: "n\(i)").status
                }
                let elapsed = ContinuousClock.now - started
                #expect(statuses.allSatisfy { $0 == 200 })
                let canary = mocks[1].provider.requestCount
                #expect(mocks[0].provider.requestCount + canary == 1000)
                print("FIGURE canary 90/10: \(canary)/1000 on the canary (\(Double(canary) / 10)%), 1000 requests in \(elapsed)")
                #expect((70...130).contains(canary))

                let metrics = try await gw.metricsText()
                #expect(metricValue(metrics, #"tollgate_variant_requests_total{model="split",variant="canary"}"#) == Double(canary))
                #expect(metricValue(metrics, #"tollgate_variant_requests_total{model="split",variant="stable"}"#) == Double(1000 - canary))
                let variants = try await gw.canaryVariants("split")
                #expect(variants["canary"]?["requests"] as? Int == canary)
                #expect(variants["canary"]?["weight"] as? Int == 10)
                #expect(variants["canary"]?["rolled_back"] as? Bool == false)
            }
        }
    }

    @Test func stickyKeyKeepsEachKeyOnOneVariant() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let keys = Self.stickyKeys.map(\.1).joined(separator: ", ")
            let policy = GatewayHarness.policy(mocks: mocks, extra: Self.split(stable: 50, canary: 50, sticky: "key"))
                .replacingOccurrences(of: "keys: [\(GatewayHarness.demoKeyHash)]", with: "keys: [\(keys)]")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let providers = try await boundedConcurrently(count: 104, width: 8) { i in
                    let reply = try await gw.chat("split", content: "n\(i)", key: Self.stickyKeys[i % 8].0)
                    return reply.header("x-tollgate-provider") ?? "status \(reply.status)"
                }
                var perKey: [Int: Set<String>] = [:]
                for (i, p) in providers.enumerated() { perKey[i % 8, default: []].insert(p) }
                for key in 0..<8 { #expect(perKey[key]?.count == 1, "key \(key) saw \(perKey[key] ?? [])") }
                // The keys spread over both variants, so the check above means something.
                let used = Set(perKey.values.compactMap(\.first))
                print("FIGURE sticky key: variant per key \(perKey.sorted { $0.key < $1.key }.map { $0.value.first ?? "-" })")
                #expect(used == ["p0", "p1"])
            }
        }
    }

    @Test func stickyUserKeepsEachUserOnOneVariant() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: Self.split(stable: 50, canary: 50, sticky: "user"))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let users = (0..<8).map { "user-\($0)@example.test" }
                let providers = try await boundedConcurrently(count: 104, width: 8) { i in
                    let reply = try await gw.chat("split", content: "n\(i)", extra: #","user":"\#(users[i % 8])""#)
                    return reply.header("x-tollgate-provider") ?? "status \(reply.status)"
                }
                var perUser: [Int: Set<String>] = [:]
                for (i, p) in providers.enumerated() { perUser[i % 8, default: []].insert(p) }
                for user in 0..<8 { #expect(perUser[user]?.count == 1, "user \(user) saw \(perUser[user] ?? [])") }
                #expect(Set(perUser.values.compactMap(\.first)) == ["p0", "p1"])
            }
        }
    }

    @Test func failingCanaryIsRolledBackAndGetsNoMoreTraffic() async throws {
        // The canary's provider fails every second request. The breaker threshold is high so that only the
        // canary monitor acts.
        try await GatewayHarness.withMocks([MockFaults(), MockFaults(errorRate: 0.5)]) { mocks in
            let extra = Self.split(stable: 50, canary: 50, sticky: "none", rollback: "{max_error_rate: 0.2, min_requests: 10, window_s: 30}")
                + ResiliencePolicy.breaker(threshold: 100, cooldown: 30)
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, extra: extra)) { gw in
                let started = ContinuousClock.now
                var statuses: [Int: Int] = [:]
                var rolledBackAfter: Int?
                for i in 0..<200 {
                    statuses[try await gw.chat("split", content: "n\(i)").status, default: 0] += 1
                    if i % 10 == 9, try await gw.canaryVariants("split")["canary"]?["rolled_back"] as? Bool == true {
                        rolledBackAfter = i + 1
                        break
                    }
                }
                print("FIGURE rollback: after \(rolledBackAfter.map(String.init) ?? "never") requests, \(ContinuousClock.now - started); canary provider saw \(mocks[1].provider.requestCount); client statuses \(statuses)")
                #expect(rolledBackAfter != nil)
                // Retries on the canary's provider rescue every request, so clients never saw the failures.
                #expect(statuses == [200: rolledBackAfter ?? -1])
                let canary = try await gw.canaryVariants("split")["canary"]
                #expect(canary?["rolled_back"] as? Bool == true)
                #expect(canary?["effective_weight"] as? Int == 0)
                #expect(canary?["weight"] as? Int == 50)
                let seen = mocks[1].provider.requestCount
                for i in 0..<40 {
                    let reply = try await gw.chat("split", content: "after \(i)")
                    #expect(reply.status == 200)
                    #expect(reply.header("x-tollgate-provider") == "p0")
                }
                #expect(mocks[1].provider.requestCount == seen)
                let metrics = try await gw.metricsText()
                #expect(metricValue(metrics, #"tollgate_canary_rollbacks_total{model="split",variant="canary"}"#) == 1)
            }
        }
    }

    @Test func hardFailingCanaryIsRolledBackAfterMinRequestsAndClientsSeeOnlyThoseFailures() async throws {
        // Every canary attempt fails: a single-target variant has nowhere else to retry, so its clients get
        // 502 (attempts exhausted) and then 503 (breaker open) until the rollback takes it out of rotation.
        try await GatewayHarness.withMocks([MockFaults(), MockFaults(status: 500)]) { mocks in
            let extra = Self.split(stable: 50, canary: 50, sticky: "none", rollback: "{max_error_rate: 0.2, min_requests: 10, window_s: 30}")
                + ResiliencePolicy.breaker(threshold: 5, cooldown: 30)
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, extra: extra)) { gw in
                var statuses: [Int: Int] = [:]
                for i in 0..<60 { statuses[try await gw.chat("split", content: "n\(i)").status, default: 0] += 1 }
                let canary = try await gw.canaryVariants("split")["canary"]
                print("FIGURE hard-failing canary: client statuses over 60 requests \(statuses); canary provider saw \(mocks[1].provider.requestCount); errors recorded \(canary?["errors"] ?? "-")")
                #expect(canary?["rolled_back"] as? Bool == true)
                // min_requests 10: at most 10 client requests failed before the rollback.
                #expect(statuses.filter { $0.key != 200 }.values.reduce(0, +) <= 10)
                #expect(statuses.keys.allSatisfy { [200, 502, 503].contains($0) })
                for i in 0..<20 { #expect(try await gw.chat("split", content: "a\(i)").status == 200) }
            }
        }
    }
}
