import Foundation
import Testing
import TollgateServer
import TollgateStore
import TollgateUpstream

/// The response cache through real HTTP: a repeated deterministic request is answered without the
/// provider, per team, on the embedded store and shared by replicas on Redis.
@Suite struct ResponseCacheTests {
    init() { ProviderKeyEnvironment.install() }

    static let deterministic = #","temperature":0"#

    @Test func aRepeatedDeterministicRequestIsAnsweredFromTheCacheEmbedded() async throws {
        try await repeatedRequestHits(on: .embedded)
    }

    @Test(.enabled(if: TestRedis.enabled)) func aRepeatedDeterministicRequestIsAnsweredFromTheCacheRedis() async throws {
        try await repeatedRequestHits(on: .redis)
    }

    private func repeatedRequestHits(on backend: StoreBackend) async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
            try await GatewayHarness.withGateway(on: backend, policy: policy) { gw in
                let first = try await gw.chat("m0", content: "What is GCRA?", extra: Self.deterministic)
                #expect(first.status == 200)
                #expect(first.header("x-tollgate-cache") == "miss")
                let second = try await expectHit(gw) { try await gw.chat("m0", content: "What is GCRA?", extra: Self.deterministic) }
                #expect(second.status == 200)
                #expect(second.header("x-tollgate-model") == "m0")
                #expect(second.header("x-tollgate-provider") == "p0")
                #expect(second.header("x-request-id") != nil && second.header("x-request-id") != first.header("x-request-id"))
                #expect(second.header("x-ratelimit-limit-requests") == first.header("x-ratelimit-limit-requests"))
                #expect(second.json?["choices"] as? NSArray == first.json?["choices"] as? NSArray)
                #expect(mocks[0].provider.requestCount == 1, "the hit never reached the provider")
                // Field order and ignored fields (user, stream_options) do not split the key.
                let reordered = try await gw.request(
                    "POST", "/v1/chat/completions",
                    body: #"{"temperature":0.0,"user":"u-42","messages":[{"content":"What is GCRA?","role":"user"}],"model":"m0"}"#)
                #expect(reordered.header("x-tollgate-cache") == "hit")
                // The client can force a fresh answer (stored again) or keep out of the cache.
                let body = #"{"model":"m0","messages":[{"role":"user","content":"What is GCRA?"}],"temperature":0}"#
                let refreshed = try await gw.request("POST", "/v1/chat/completions", body: body, headers: [("cache-control", "no-cache")])
                #expect(refreshed.header("x-tollgate-cache") == "miss")
                let unstored = try await gw.request("POST", "/v1/chat/completions", body: body, headers: [("cache-control", "no-store")])
                #expect(unstored.header("x-tollgate-cache") == "bypass")
                #expect(mocks[0].provider.requestCount == 3)
                #expect(try await gw.request("POST", "/v1/chat/completions", body: body).header("x-tollgate-cache") == "hit")
                // A different prompt is a miss.
                let other = try await gw.chat("m0", content: "What is a token bucket?", extra: Self.deterministic)
                #expect(other.header("x-tollgate-cache") == "miss")
                #expect(mocks[0].provider.requestCount == 4)
                // A hit counts as a request with no tokens.
                let usage = try await gw.usage()
                let total = usage["total"] as? [String: Any]
                #expect((total?["requests"] as? NSNumber)?.intValue == 7)
                let firstTokens = ((first.json?["usage"] as? [String: Any])?["total_tokens"] as? NSNumber)?.intValue ?? 0
                let otherTokens = ((other.json?["usage"] as? [String: Any])?["total_tokens"] as? NSNumber)?.intValue ?? 0
                #expect((total?["total_tokens"] as? NSNumber)?.intValue == 3 * firstTokens + otherTokens)
            }
        }
    }

    @Test func repeatedEmbeddingsAreAnsweredFromTheCache() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                let body = #"{"model":"m0","input":["alpha","beta"],"encoding_format":"float"}"#
                let first = try await gw.request("POST", "/v1/embeddings", body: body)
                let second = try await gw.request("POST", "/v1/embeddings", body: body)
                #expect(first.status == 200 && second.status == 200)
                #expect(first.header("x-tollgate-cache") == "miss")
                #expect(second.header("x-tollgate-cache") == "hit")
                #expect(second.body == first.body)
                let other = try await gw.request("POST", "/v1/embeddings", body: #"{"model":"m0","input":["alpha"],"encoding_format":"float"}"#)
                #expect(other.header("x-tollgate-cache") == "miss")
                #expect(mocks[0].provider.requestCount == 2)
            }
        }
    }

    @Test func aStreamedAnswerIsStoredWholeAndReplayedToStreamAndNonStreamClients() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                let first = try await gw.chat("m0", content: "stream me once", stream: true, extra: Self.deterministic)
                #expect(first.header("x-tollgate-cache") == "miss")
                let replayed = try await gw.chat(
                    "m0", content: "stream me once", stream: true, extra: Self.deterministic + #","stream_options":{"include_usage":true}"#)
                #expect(replayed.header("x-tollgate-cache") == "hit")
                #expect(replayed.header("content-type") == "text/event-stream")
                #expect(try SSEText.content(of: replayed.text) == SSEText.content(of: first.text))
                #expect(replayed.text.contains(#""usage""#), "the client asked for the usage chunk")
                #expect(replayed.text.hasSuffix("data: [DONE]\n\n"))
                let plain = try await gw.chat("m0", content: "stream me once", extra: Self.deterministic)
                #expect(plain.header("x-tollgate-cache") == "hit")
                let message = ((plain.json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
                #expect(message == (try SSEText.content(of: first.text)))
                #expect(mocks[0].provider.requestCount == 1)
            }
        }
    }

    @Test func sampledAndDisabledRequestsBypassTheCache() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                for _ in 0..<2 {
                    #expect(try await gw.chat("m0", content: "sampled").header("x-tollgate-cache") == "bypass")
                    #expect(try await gw.chat("m0", content: "warm", extra: #","temperature":0.7"#).header("x-tollgate-cache") == "bypass")
                    let stream = try await gw.chat("m0", content: "streamed", stream: true)
                    #expect(stream.header("x-tollgate-cache") == "bypass")
                    #expect(stream.text.contains("[DONE]"))
                }
                #expect(mocks[0].provider.requestCount == 6)
            }
            let off = GatewayHarness.policy(mocks: mocks)
            try await GatewayHarness.withGateway(on: .embedded, policy: off) { gw in
                let first = try await gw.chat("m0", content: "off", extra: Self.deterministic)
                let second = try await gw.chat("m0", content: "off", extra: Self.deterministic)
                #expect(first.header("x-tollgate-cache") == "bypass" && second.header("x-tollgate-cache") == "bypass")
            }
        }
    }

    @Test func teamsDoNotShareCachedAnswers() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let otherKey = "sk-tg-second-team-key-000000000000000"
            let otherHash = KeyCrypto.sha256Hex(otherKey)
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
                + "  t2:\n    keys: [\(otherHash)]\n"
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                _ = try await gw.chat("m0", content: "shared question", extra: Self.deterministic)
                _ = try await expectHit(gw) { try await gw.chat("m0", content: "shared question", extra: Self.deterministic) }
                let otherTeam = try await gw.chat("m0", content: "shared question", extra: Self.deterministic, key: otherKey)
                #expect(otherTeam.status == 200)
                #expect(otherTeam.header("x-tollgate-cache") == "miss")
            }
        }
    }

    @Test func aCachedAnswerToARedactedPromptRestoresEachClientsOwnValue() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n" + ScreeningTests.screening(restore: true))
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                let dave = try await gw.chat("m0", content: "my email is dave@example.com", extra: Self.deterministic)
                #expect(dave.header("x-tollgate-cache") == "miss")
                #expect(dave.text.contains("dave@example.com"))
                // The provider saw `[EMAIL_1]` both times, so the second prompt meets the first's answer,
                // and gets its own address back, never the first client's.
                let erin = try await gw.chat("m0", content: "my email is erin@example.org", extra: Self.deterministic)
                #expect(erin.header("x-tollgate-cache") == "hit")
                #expect(erin.text.contains("erin@example.org"))
                #expect(!erin.text.contains("dave@example.com"))
                #expect(mocks[0].provider.requestCount == 1)
            }
        }
    }

    @Test func responsePIIStaysRedactedOnMissesAndHitsWhileTheRequestsOwnValueIsRestored() async throws {
        try await GatewayHarness.withMocks([MockFaults(reply: "Forwarded to other@corp.example and [EMAIL_1].")]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n" + ScreeningTests.screening(restore: true))
            try await GatewayHarness.withGateway(on: .embedded, policy: policy) { gw in
                for expected in ["miss", "hit"] {
                    let reply = try await gw.chat("m0", content: "I am dave@example.com", extra: Self.deterministic)
                    #expect(reply.header("x-tollgate-cache") == expected)
                    #expect(reply.text.contains("and dave@example.com."))
                    #expect(!reply.text.contains("other@corp.example"))
                }
            }
        }
    }

    @Test(.enabled(if: TestRedis.enabled)) func replicasOnOneRedisShareTheCache() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "cache: {enabled: true, ttl_s: 60}\n")
            try await TestRedis.withDatabase { url in
                try await GatewayHarness.withGateway(policy: policy, redisURL: url) { a in
                    try await GatewayHarness.withGateway(policy: policy, redisURL: url) { b in
                        #expect(try await a.chat("m0", content: "replicated", extra: Self.deterministic).header("x-tollgate-cache") == "miss")
                        let fromB = try await expectHit(b) { try await b.chat("m0", content: "replicated", extra: Self.deterministic) }
                        #expect(fromB.status == 200)
                        #expect(mocks[0].provider.requestCount == 1)
                    }
                }
            }
        }
    }

    /// The answer is stored before the miss's response goes out, so the very next request hits.
    private func expectHit(_ gw: RunningGateway, _ call: () async throws -> RunningGateway.Reply) async throws -> RunningGateway.Reply {
        let reply = try await call()
        #expect(reply.header("x-tollgate-cache") == "hit")
        return reply
    }
}
