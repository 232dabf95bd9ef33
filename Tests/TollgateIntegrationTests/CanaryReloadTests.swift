import Foundation
import Testing
import TollgateServer

/// Canary weights and rollbacks across policy hot reloads (the reloader polls the file once a second).
@Suite(.serialized) struct CanaryReloadTests {
    init() { ProviderKeyEnvironment.install() }

    /// Rewrites the policy file and waits until the gateway runs a newer generation.
    static func reload(_ gw: RunningGateway, to policy: String) async throws {
        let before = (try await gw.adminStatus()["policy"] as? [String: Any])?["generation"] as? Int ?? 0
        try policy.write(toFile: gw.policyPath, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let generation = (try await gw.adminStatus()["policy"] as? [String: Any])?["generation"] as? Int ?? 0
            if generation > before { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the policy was not reloaded within 5 s")
    }

    @Test func raisingTheStableWeightByHotReloadMovesNoStableClient() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let keys = CanaryTests.stickyKeys.map(\.1).joined(separator: ", ")
            @Sendable func policy(_ stable: Int, _ canary: Int) -> String {
                GatewayHarness.policy(mocks: mocks, extra: CanaryTests.split(stable: stable, canary: canary, sticky: "key"))
                    .replacingOccurrences(of: "keys: [\(GatewayHarness.demoKeyHash)]", with: "keys: [\(keys)]")
            }
            try await GatewayHarness.withGateway(policy: policy(50, 50)) { gw in
                func assignment() async throws -> [String] {
                    var out: [String] = []
                    for (secret, _) in CanaryTests.stickyKeys {
                        out.append(try await gw.chat("split", key: secret).header("x-tollgate-provider") ?? "?")
                    }
                    return out
                }
                let before = try await assignment()
                try await Self.reload(gw, to: policy(80, 20))
                let after = try await assignment()
                print("FIGURE canary reload 50/50 -> 80/20: \(before) -> \(after)")
                #expect(before.contains("p1"))
                for (b, a) in zip(before, after) where b == "p0" { #expect(a == "p0", "a stable client was moved to the canary") }
                #expect(try await gw.canaryVariants("split")["canary"]?["weight"] as? Int == 20)
            }
        }
    }

    @Test func rolledBackCanaryStaysOffAcrossUnrelatedReloadsUntilItsModelIsEdited() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults(errorRate: 0.5)]) { mocks in
            @Sendable func policy(canary: Int, rpm: Int) -> String {
                GatewayHarness.policy(
                    mocks: mocks,
                    // A high breaker threshold keeps the canary's breaker closed, so only the rollback steers traffic.
                    extra: CanaryTests.split(stable: 50, canary: canary, sticky: "none", rollback: "{max_error_rate: 0.2, min_requests: 10, window_s: 30}")
                        + ResiliencePolicy.breaker(threshold: 100, cooldown: 30),
                    teamExtra: "    rpm: \(rpm)\n")
            }
            try await GatewayHarness.withGateway(policy: policy(canary: 50, rpm: 100_000)) { gw in
                for i in 0..<60 { _ = try await gw.chat("split", content: "n\(i)") }
                #expect(try await gw.canaryVariants("split")["canary"]?["rolled_back"] as? Bool == true)

                try await Self.reload(gw, to: policy(canary: 50, rpm: 90_000))
                #expect(try await gw.canaryVariants("split")["canary"]?["rolled_back"] as? Bool == true)
                let seen = mocks[1].provider.requestCount
                for i in 0..<20 { #expect(try await gw.chat("split", content: "a\(i)").header("x-tollgate-provider") == "p0") }
                #expect(mocks[1].provider.requestCount == seen)

                // Editing the model lifts the rollback (the operator fixed or re-weighted the canary).
                mocks[1].provider.setFaults(MockFaults())
                try await Self.reload(gw, to: policy(canary: 40, rpm: 90_000))
                let canary = try await gw.canaryVariants("split")["canary"]
                #expect(canary?["rolled_back"] as? Bool == false)
                #expect(canary?["effective_weight"] as? Int == 40)
                for i in 0..<40 { #expect(try await gw.chat("split", content: "b\(i)").status == 200) }
                #expect(mocks[1].provider.requestCount > seen)
            }
        }
    }
}
