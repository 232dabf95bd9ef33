import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Issue 4: token budgets reserve before forwarding and settle to real usage, streams included.
@Suite(.serialized) struct BudgetTests {
    init() { ProviderKeyEnvironment.install() }

    /// 40 words, so the mock's completion_tokens is 40 and a request's real usage is close to its
    /// reservation (prompt estimate + max_tokens 40).
    static let fortyWords = Array(repeating: "tok", count: 40).joined(separator: " ")
    static let maxTokens = 40
    /// The gateway's reservation for `chat(content: "Hello there", max_tokens: 40)`:
    /// prompt estimate (3 priming + 4 per message + ceil(11/4)) + 40.
    static let reservation = 3 + 4 + 3 + maxTokens

    @Test func thousandTokenTotalBudgetUnderThirtyConcurrentRequestsOvershootsByAtMostOneReservationEmbedded() async throws {
        try await budgetBurst(on: .embedded, period: "total")
    }

    @Test(.enabled(if: TestRedis.enabled)) func thousandTokenDailyBudgetUnderThirtyConcurrentRequestsOvershootsByAtMostOneReservationRedis() async throws {
        try await budgetBurst(on: .redis, period: "daily")
    }

    private func budgetBurst(on backend: StoreBackend, period: String) async throws {
        try await GatewayHarness.withMocks([MockFaults(reply: Self.fortyWords)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    budget: {tokens: 1000, period: \(period)}\n")
            try await GatewayHarness.withGateway(on: backend, policy: policy) { gw in
                let replies = try await concurrently(30) { _ in try await gw.chat("m0", extra: #","max_tokens":\#(Self.maxTokens)"#) }
                let admitted = replies.filter { $0.status == 200 }
                let refused = replies.filter { $0.status == 429 }
                #expect(admitted.count + refused.count == 30, "unexpected statuses \(Set(replies.map(\.status)))")
                #expect(!refused.isEmpty, "30 × ~\(Self.reservation) tokens should not fit in 1,000")
                for reply in refused {
                    #expect(reply.errorCode == "budget_exceeded")
                    #expect(reply.errorType == "insufficient_quota")
                    #expect(reply.isOpenAIError)
                }
                let usage = try await gw.usage()
                let total = usage["total"] as? [String: Any]
                let tokens = (total?["total_tokens"] as? NSNumber)?.intValue ?? -1
                let requests = (total?["requests"] as? NSNumber)?.intValue ?? -1
                let perRequest = admitted.compactMap { (($0.json?["usage"] as? [String: Any])?["total_tokens"] as? NSNumber)?.intValue }.max() ?? 0
                print("[figure] \(backend) \(period) budget 1000 tokens, 30 concurrent: \(admitted.count) admitted, usage total \(tokens) tokens (reservation \(Self.reservation), actual/request \(perRequest))")
                #expect(requests == admitted.count)
                #expect(usage["period"] as? String == period)
                #expect(tokens <= 1000 + Self.reservation, "overshoot beyond one reservation")
                #expect(tokens >= 1000 * perRequest / Self.reservation - perRequest, "budget refused while far from spent")
                // Settling returned the unused part of the reservations; sequential requests use up the
                // rest, then the budget refuses, still within one reservation of the ceiling.
                var refusal: RunningGateway.Reply?
                for _ in 0..<10 {
                    let reply = try await gw.chat("m0", extra: #","max_tokens":\#(Self.maxTokens)"#)
                    if reply.status != 200 {
                        refusal = reply
                        break
                    }
                }
                #expect(refusal?.status == 429 && refusal?.errorCode == "budget_exceeded" && refusal?.errorType == "insufficient_quota")
                let final = try await gw.usageTotal("total_tokens")
                #expect(final >= 1000 - Self.reservation && final <= 1000 + Self.reservation, "final usage \(final)")
            }
        }
    }

    @Test func streamedUsageIsCountedAndTheUsageChunkIsShownOnlyToClientsThatAsked() async throws {
        try await streamedUsage(on: .embedded)
    }

    @Test(.enabled(if: TestRedis.enabled)) func streamedUsageIsCountedOnRedis() async throws {
        try await streamedUsage(on: .redis)
    }

    private func streamedUsage(on backend: StoreBackend) async throws {
        try await GatewayHarness.withMocks([MockFaults(reply: "one two three four five")]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    budget: {tokens: 100000, period: monthly}\n")
            try await GatewayHarness.withGateway(on: backend, policy: policy) { gw in
                let key = try await gw.issueKey()
                let hidden = try await gw.chat("m0", stream: true, key: key.secret)
                #expect(hidden.status == 200)
                #expect(hidden.text.contains("[DONE]"))
                #expect(!hidden.text.contains("\"usage\""), "a client that did not ask saw the usage chunk")
                let upstream = try await lastRequest(mocks[0])
                #expect((upstream["body"] as? String)?.contains(#""include_usage":true"#) == true, "the gateway did not ask upstream for usage")

                let usageAfterOne = try await gw.usage()
                let total = usageAfterOne["total"] as? [String: Any]
                #expect((total?["requests"] as? NSNumber)?.intValue == 1)
                #expect((total?["completion_tokens"] as? NSNumber)?.intValue == 5, "streamed completion tokens not counted: \(String(describing: total))")
                let perKey = (usageAfterOne["keys"] as? [String: Any])?[key.id] as? [String: Any]
                #expect((perKey?["completion_tokens"] as? NSNumber)?.intValue == 5)

                let shown = try await gw.chat("m0", stream: true, extra: #","stream_options":{"include_usage":true}"#, key: key.secret)
                #expect(shown.status == 200)
                #expect(shown.text.contains("\"usage\""), "a client that asked for usage did not get it")
                #expect(try await gw.usageTotal("requests") == 2)
                #expect(try await gw.usageTotal("completion_tokens") == 10)
                // The team's totals are also at the top level, as the contract names them.
                let usage = try await gw.usage()
                #expect((usage["requests"] as? NSNumber)?.intValue == 2)
                #expect((usage["tokens"] as? NSNumber)?.intValue == (try await gw.usageTotal("total_tokens")))
                #expect(usage["cost_usd"] != nil)
            }
        }
    }

    @Test func streamCutShortStillSettlesUsage() async throws {
        try await GatewayHarness.withMocks([MockFaults(resetAfterChunks: 3, reply: "a b c d e f g h")]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "retries: {max: 0, backoff_ms: 1}\n", teamExtra: "    budget: {tokens: 100000, period: daily}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let cut = try await gw.chat("m0", stream: true)
                #expect(cut.status == 200)
                #expect(cut.text.contains("error"), "a broken stream ends with an error event")
                #expect(try await gw.usageTotal("requests") == 1)
                #expect(try await gw.usageTotal("completion_tokens") > 0, "tokens seen before the cut are counted")
                #expect(try await gw.usageTotal("prompt_tokens") > 0)
            }
        }
    }

    @Test func budgetRefusalIsInsufficientQuotaAndFailedRequestsAreRefunded() async throws {
        try await GatewayHarness.withMocks([MockFaults(status: 500), MockFaults(status: 400)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "retries: {max: 0, backoff_ms: 1}\n", teamExtra: "    budget: {tokens: 100, period: daily}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                // Each failing request reserves ~60 tokens; refunds keep the budget whole.
                for _ in 0..<5 {
                    let reply = try await gw.chat("m0", extra: #","max_tokens":50"#)
                    #expect(reply.status >= 500, "\(reply.status)")
                    // The provider's own 400 is passed on, and nothing is charged for it either.
                    let rejected = try await gw.chat("m1", extra: #","max_tokens":50"#)
                    #expect(rejected.status == 400, "\(rejected.status)")
                }
                #expect(try await gw.usageTotal("total_tokens") == 0)
                #expect(try await gw.usageTotal("requests") == 0)
            }
        }
    }
}
