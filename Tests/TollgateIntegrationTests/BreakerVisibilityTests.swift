import Foundation
import Testing
import TollgateServer

/// Breaker states and transitions are visible to operators in `/admin/status` and `/metrics`.
@Suite(.serialized) struct BreakerVisibilityTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func openBreakerIsReportedInAdminStatusAndMetrics() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 2, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for _ in 0..<3 { #expect(try await gw.chat("chain").status == 200) }
                let primary = try #require(try await gw.breaker("p0/upstream-chain-0"))
                #expect(primary["state"] as? String == "open")
                #expect(primary["times_opened"] as? Int == 1)
                #expect((primary["open_for_s"] as? Double).map { $0 > 25 && $0 <= 30 } == true)
                let fallback = try #require(try await gw.breaker("p1/upstream-chain-1"))
                #expect(fallback["state"] as? String == "closed")

                let metrics = try await gw.metricsText()
                #expect(metricValue(metrics, #"tollgate_breaker_state{target="p0/upstream-chain-0"}"#) == 2)
                #expect(metricValue(metrics, #"tollgate_breaker_state{target="p1/upstream-chain-1"}"#) == 0)
                #expect(metricValue(metrics, #"tollgate_breaker_transitions_total{target="p0/upstream-chain-0",to="open"}"#) == 1)

                // The admin page is not public.
                let anonymous = try await gw.request("GET", "/admin/status", key: nil)
                #expect([401, 403].contains(anonymous.status))
            }
        }
    }

    @Test func halfOpenProbeThatFailsReopensTheBreaker() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 2, cooldown: 1))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for _ in 0..<2 { #expect(try await gw.chat("chain").status == 200) }
                #expect(try await gw.breaker("p0/upstream-chain-0")?["state"] as? String == "open")
                try await Task.sleep(for: .milliseconds(1100))
                let before = mocks[0].provider.requestCount
                // Eight concurrent requests as the cooldown ends: one probe reaches the primary, all are served.
                let replies = try await boundedConcurrently(count: 8, width: 8) { _ in try await gw.chat("chain") }
                #expect(replies.allSatisfy { $0.status == 200 })
                #expect(mocks[0].provider.requestCount - before == 1)
                let breaker = try await gw.breaker("p0/upstream-chain-0")
                #expect(breaker?["state"] as? String == "open")
                #expect(breaker?["times_opened"] as? Int == 2)
            }
        }
    }
}
