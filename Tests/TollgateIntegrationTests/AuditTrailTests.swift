import Foundation
import Testing
import TollgateServer

/// The audit trail through real requests: what is recorded, what never is, and that the
/// hash chain catches tampering.
@Suite(.serialized) struct AuditTrailTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func requestsAreRecordedInAVerifiableChainWithoutPromptText() async throws {
        try await GatewayHarness.withMocks([MockFaults(resetAfterChunks: 2)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "audit: {path: audit/audit.jsonl, fsync: always}\n", teamExtra: "    models: [m0]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let secretPrompt = "my-secret-prompt-text-42"
                let ok = try await gw.chat("m0", content: secretPrompt)
                #expect(ok.status == 200)
                let broken = try await gw.chat("m0", content: "one two three four five", stream: true)
                #expect(broken.text.contains("\"error\""))
                let refused = try await gw.chat("chain", content: secretPrompt)
                #expect(refused.status == 403)
                let path = GatewayHarness.directory(of: gw.policyPath) + "/audit/audit.jsonl"
                var text = ""
                for _ in 0..<50 {
                    text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    if text.split(separator: "\n").count >= 3 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let lines = text.split(separator: "\n")
                #expect(lines.count >= 3)
                #expect(!text.contains(secretPrompt))
                #expect(!text.contains(GatewayHarness.demoKey))
                #expect(text.contains(ok.header("x-request-id") ?? "missing"))
                #expect(text.contains("\"outcome\":\"provider_error"))
                #expect(text.contains("\"error_code\":\"model_not_allowed\""))
                #expect(AuditChain.verify(Data(text.utf8)) == nil)

                var tampered = lines.map(String.init)
                tampered[1] = tampered[1].replacingOccurrences(of: "\"stream\":true", with: "\"stream\":false")
                let problem = AuditChain.verify(Data(tampered.joined(separator: "\n").utf8))
                #expect(problem?.line == 2)
                var dropped = lines.map(String.init)
                dropped.remove(at: 1)
                #expect(AuditChain.verify(Data(dropped.joined(separator: "\n").utf8))?.line == 2)
            }
        }
    }
}

extension GatewayHarness {
    static func directory(of path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
}
