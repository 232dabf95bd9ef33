import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Issue 6 end to end: failover along `chain` (mock 0 first, then mock 1) through real HTTP.
@Suite(.serialized) struct FailoverTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func failingPrimaryIsShieldedWhileTheFallbackServesEveryRequest() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 3, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                var providers: [String] = []
                for i in 0..<30 {
                    let reply = try await gw.chat("chain", content: "request \(i)")
                    #expect(reply.status == 200, "request \(i): \(reply.text)")
                    providers.append(reply.header("x-tollgate-provider") ?? "?")
                }
                #expect(providers.allSatisfy { $0 == "p1" })
                // failure_threshold 3 + at most one half-open probe (none expected: cooldown is 30 s).
                #expect(mocks[0].provider.requestCount <= 3 + 1)
                #expect(mocks[0].provider.requestCount >= 3)
                #expect(mocks[1].provider.requestCount == 30)
            }
        }
    }

    @Test func healedPrimaryGetsTrafficBackAfterTheCooldown() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 503), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 3, cooldown: 1))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for _ in 0..<5 { #expect(try await gw.chat("chain").status == 200) }
                #expect(try await gw.breaker("p0/upstream-chain-0")?["state"] as? String == "open")
                let seenWhileOpen = mocks[0].provider.requestCount
                mocks[0].provider.setFaults(MockFaults())
                // Still open: the healed primary is not asked before the cooldown ends.
                #expect(try await gw.chat("chain").header("x-tollgate-provider") == "p1")
                #expect(mocks[0].provider.requestCount == seenWhileOpen)
                try await Task.sleep(for: .milliseconds(1100))
                var providers: [String] = []
                for _ in 0..<5 { providers.append(try await gw.chat("chain").header("x-tollgate-provider") ?? "?") }
                #expect(providers == Array(repeating: "p0", count: 5))
                #expect(try await gw.breaker("p0/upstream-chain-0")?["state"] as? String == "closed")
            }
        }
    }

    @Test func retryAfterFromThePrimaryIsHonouredBeforeItIsAskedAgain() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 429, retryAfterSeconds: 2), MockFaults()]) { mocks in
            // A high threshold keeps the breaker out of it: only Retry-After keeps the primary idle.
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 50, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let started = ContinuousClock.now
                let first = try await gw.chat("chain")
                #expect(first.status == 200)
                #expect(first.header("x-tollgate-provider") == "p1")
                #expect(mocks[0].provider.requestCount == 1)
                mocks[0].provider.setFaults(MockFaults())
                for _ in 0..<10 {
                    #expect(try await gw.chat("chain").header("x-tollgate-provider") == "p1")
                }
                #expect(mocks[0].provider.requestCount == 1, "the primary was asked before its Retry-After passed")
                #expect(ContinuousClock.now - started < .seconds(2), "the check above ran inside the Retry-After window")
                let retryAfter = try await gw.breaker("p0/upstream-chain-0")?["retry_after_s"] as? Double
                #expect(retryAfter != nil && retryAfter! > 0)
                try await Task.sleep(until: started + .milliseconds(2100))
                let back = try await gw.chat("chain")
                #expect(back.header("x-tollgate-provider") == "p0")
                #expect(mocks[0].provider.requestCount == 2)
            }
        }
    }

    @Test func providerRetryAfterReachesTheClientWhenFailoverIsExhausted() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 429, retryAfterSeconds: 1)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 50, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let reply = try await gw.chat("m0")
                #expect(reply.status == 503)
                #expect(reply.errorCode == "upstream_rate_limited")
                #expect(reply.header("retry-after") == "1")
            }
        }
    }

    @Test func slowPrimaryHitsTheFirstByteTimeoutAndFailsOverWithinBudget() async throws {
        try await GatewayHarness.withMocks([MockFaults(latencyMs: 1500), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(
                mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 50, cooldown: 30), timeout: ResiliencePolicy.timeouts(firstByteMs: 300))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for stream in [false, true] {
                    let started = ContinuousClock.now
                    let reply = try await gw.chat("chain", content: "hello", stream: stream)
                    let elapsed = ContinuousClock.now - started
                    print("FIGURE failover after first-byte timeout (300 ms budget), stream=\(stream): \(elapsed)")
                    #expect(reply.status == 200)
                    #expect(reply.header("x-tollgate-provider") == "p1")
                    #expect(elapsed >= .milliseconds(280))
                    #expect(elapsed < .milliseconds(900), "failover took \(elapsed)")
                    if stream { #expect(reply.text.hasSuffix("data: [DONE]\n\n")) }
                }
                #expect(mocks[0].provider.requestCount == 2)
            }
        }
    }

    @Test func unreachablePrimaryFailsOverOnTheConnectErrorAndLeaksNoAddress() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            // Port 9 (discard) has no listener here: the connect is refused at once.
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 50, cooldown: 30))
                .replacingOccurrences(of: mocks[0].baseURL, with: "http://127.0.0.1:9/v1")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let started = ContinuousClock.now
                let reply = try await gw.chat("chain")
                let elapsed = ContinuousClock.now - started
                print("FIGURE failover after a refused connect: \(elapsed)")
                #expect(reply.status == 200)
                #expect(reply.header("x-tollgate-provider") == "p1")
                #expect(elapsed < .milliseconds(500))
                let down = try await gw.chat("m0")
                #expect([502, 503].contains(down.status))
                #expect(down.json?["error"] != nil)
                #expect(!down.text.contains("127.0.0.1") && !down.text.contains(":9/"), "\(down.text)")
            }
        }
    }

    @Test func clientErrorFromTheProviderIsNotRetriedAndDoesNotOpenTheBreaker() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 400), MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 2, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for _ in 0..<6 {
                    let reply = try await gw.chat("chain")
                    #expect(reply.status == 400)
                    #expect((reply.json?["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
                }
                #expect(mocks[0].provider.requestCount == 6)
                #expect(mocks[1].provider.requestCount == 0)
                let breaker = try await gw.breaker("p0/upstream-chain-0")
                #expect(breaker?["state"] as? String == "closed")
                #expect(breaker?["failures_in_window"] as? Int == 0)
            }
        }
    }

    @Test func allTargetsDownAnswersAnOpenAIErrorThatLeaksNothingInternal() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults(status: 503)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: ResiliencePolicy.breaker(threshold: 3, cooldown: 30))
            try await GatewayHarness.withGateway(policy: policy) { gw in
                var replies: [RunningGateway.Reply] = []
                for _ in 0..<4 { replies.append(try await gw.chat("chain")) }
                // Early requests fail after trying the targets (502); once both breakers are open, 503 at once.
                for reply in replies {
                    #expect([502, 503, 504].contains(reply.status))
                    let error = reply.json?["error"] as? [String: Any]
                    #expect(error?["message"] is String)
                    #expect(error?["type"] is String)
                    for secret in ["127.0.0.1", "localhost", "http", ":\(mocks[0].port)", ":\(mocks[1].port)", ProviderKeyEnvironment.value, "mock fault"] {
                        #expect(!reply.text.contains(secret), "error body leaks \(secret): \(reply.text)")
                        #expect(!reply.headers.contains { $0.1.contains(secret) }, "a header leaks \(secret)")
                    }
                }
                let last = try #require(replies.last)
                #expect(last.status == 503)
                #expect(last.header("retry-after").flatMap(Int.init).map { $0 >= 1 && $0 <= 30 } == true)
                let seen = mocks[0].provider.requestCount + mocks[1].provider.requestCount
                let again = try await gw.chat("chain")
                #expect(again.status == 503)
                #expect(mocks[0].provider.requestCount + mocks[1].provider.requestCount == seen)
            }
        }
    }

    @Test func degradeToServesTheFallbackModelWhenThePrimaryBreakersAreOpen() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults()]) { mocks in
            let extra = "  primary: {targets: [{provider: p0, model: prim}], degrade_to: m1}\n"
                + ResiliencePolicy.breaker(threshold: 2, cooldown: 30, retries: 1)
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, extra: extra)) { gw in
                // The first request's two attempts open the primary's breaker; that same request is then
                // served by the fallback model rather than answered with the 500 that tripped it.
                let first = try await gw.chat("primary")
                #expect(first.status == 200)
                #expect(first.header("x-tollgate-model") == "m1" && first.header("x-tollgate-degraded-from") == "primary")
                #expect(mocks[0].provider.requestCount == 2)
                #expect(try await gw.breaker("p0/prim")?["state"] as? String == "open")
                let seen = mocks[0].provider.requestCount
                for _ in 0..<5 {
                    let reply = try await gw.chat("primary")
                    #expect(reply.status == 200)
                    #expect(reply.header("x-tollgate-model") == "m1" && reply.header("x-tollgate-degraded-from") == "primary")
                    #expect(reply.header("x-tollgate-provider") == "p1")
                }
                #expect(mocks[0].provider.requestCount == seen)
            }
        }
    }
}
