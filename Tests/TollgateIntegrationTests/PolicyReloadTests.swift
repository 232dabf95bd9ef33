import Foundation
import Testing
import TollgateServer

@Suite(.serialized) struct PolicyReloadTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func anEditedPolicyTakesEffectWithoutARestart() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let before = GatewayHarness.policy(mocks: mocks, teamExtra: "    models: [m0]\n")
            try await GatewayHarness.withGateway(policy: before) { gw in
                let denied = try await gw.chat("m1")
                #expect(denied.status == 403)
                let after = GatewayHarness.policy(mocks: mocks, teamExtra: "    models: [m0, m1]\n")
                try after.write(toFile: gw.policyPath, atomically: true, encoding: .utf8)
                var status = 0
                for _ in 0..<40 where status != 200 {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await gw.chat("m1").status
                }
                #expect(status == 200)
            }
        }
    }

    @Test func aBrokenEditKeepsThePreviousPolicyAndIsReported() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                try "version: 1\nproviders: {}\nmodels:\n  m0: {targets: [{provider: nowhere, model: x}]}\n"
                    .write(toFile: gw.policyPath, atomically: true, encoding: .utf8)
                try await Task.sleep(for: .milliseconds(2500))
                let stillServed = try await gw.chat("m0")
                #expect(stillServed.status == 200)
                let status = try await gw.request("GET", "/admin/status", key: "test-admin-token")
                #expect(status.status == 200)
                let policy = status.json?["policy"] as? [String: Any]
                let error = policy?["last_reload_error"] as? String
                #expect(error?.contains("tollgate.yaml:4:") == true)
                #expect(error?.contains("unknown provider") == true)
                let store = status.json?["store"] as? [String: Any]
                #expect(store?["backend"] as? String == "memory")
                #expect(store?["counters_persistence_error"] is NSNull, "the data directory takes the counters")
            }
        }
    }

    @Test func adminStatusNeedsTheAdminToken() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let missing = try await gw.request("GET", "/admin/status", key: nil)
                #expect(missing.status == 403)
                let wrong = try await gw.request("GET", "/admin/status", key: "wrong")
                #expect(wrong.status == 403)
            }
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks), adminToken: nil) { gw in
                let reply = try await gw.request("GET", "/admin/status", key: "anything")
                #expect(reply.status == 403)
                #expect((reply.json?["error"] as? [String: Any])?["message"] as? String != nil)
            }
        }
    }
}
