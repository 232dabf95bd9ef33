import Foundation
import Testing
import TollgateServer

/// Streams through `chain`: once the first byte went to the client there is no failover, only a clean end.
@Suite(.serialized) struct FailoverStreamTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func midStreamResetThroughAChainEndsWithOneErrorEventAndNoRetry() async throws {
        try await GatewayHarness.withMocks([MockFaults(resetAfterChunks: 3), MockFaults()]) { mocks in
            // An idle timeout far above the bound: a stream that waited for it instead of ending at
            // the reset fails the bound even on a loaded machine, where the reset path itself can
            // take seconds.
            let timeout = "{connect_ms: 500, first_byte_ms: 2000, total_ms: 60000, idle_ms: 30000}"
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, timeout: timeout)) { gw in
                let started = ContinuousClock.now
                let reply = try await gw.chat("chain", content: "one two three four five six", stream: true)
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(reply.status == 200)
                #expect(reply.header("x-tollgate-provider") == "p0")
                let events = reply.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last?.hasPrefix("data: {\"error\":") == true)
                #expect(events.filter { $0.contains("\"error\"") }.count == 1)
                #expect(!reply.text.contains("[DONE]"))
                // The three words sent before the reset arrive once each; nothing is replayed from the fallback.
                #expect(reply.text.components(separatedBy: "\"content\":\"Hello\"").count - 1 == 1)
                #expect(mocks[1].provider.requestCount == 0)
                #expect(!reply.text.contains("127.0.0.1"))
            }
        }
    }

    @Test func stalledStreamIsEndedByTheIdleTimeout() async throws {
        try await GatewayHarness.withMocks([MockFaults(stallAfterChunks: 2, stallMs: 10_000), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, timeout: ResiliencePolicy.timeouts(idleMs: 400))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let started = ContinuousClock.now
                let reply = try await gw.chat("chain", content: "hello", stream: true)
                let elapsed = ContinuousClock.now - started
                print("FIGURE stalled stream ended after \(elapsed) (idle_ms 400)")
                #expect(elapsed < .milliseconds(2000))
                #expect(reply.status == 200)
                let events = reply.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last?.hasPrefix("data: {\"error\":") == true)
                #expect(!reply.text.contains("[DONE]"))
                #expect(mocks[1].provider.requestCount == 0)
            }
        }
    }
}
