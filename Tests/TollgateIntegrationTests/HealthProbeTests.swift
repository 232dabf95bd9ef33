import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Health and readiness answer HEAD as well as GET (load balancers that probe with HEAD).
struct HealthProbeTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func healthAndReadinessAnswerHeadWithTheGetStatusAndNoBody() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                for path in ["/healthz", "/readyz"] {
                    let head = try await gw.request("HEAD", path, key: nil)
                    let get = try await gw.request("GET", path, key: nil)
                    #expect(head.status == 200 && get.status == 200, "\(path): HEAD \(head.status), GET \(get.status)")
                    #expect(head.body.isEmpty, "\(path): a HEAD answer has no body")
                    #expect(head.header("x-request-id") != nil)
                    #expect(!get.body.isEmpty)
                }
            }
        }
    }
}
