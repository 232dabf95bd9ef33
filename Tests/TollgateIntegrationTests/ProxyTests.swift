import Foundation
import Testing
import TollgateServer
import TollgateUpstream

@Suite(.serialized) struct ProxyTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func nonStreamingChatIsProxiedWithTollgateHeaders() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let reply = try await gw.chat("m0", content: "ping")
                #expect(reply.status == 200)
                #expect(reply.header("x-tollgate-model") == "m0")
                #expect(reply.header("x-tollgate-provider") == "p0")
                #expect(reply.header("x-request-id")?.hasPrefix("req_") == true)
                let choices = reply.json?["choices"] as? [[String: Any]]
                let content = (choices?.first?["message"] as? [String: Any])?["content"] as? String
                #expect(content?.contains("ping") == true)
            }
        }
    }

    @Test func requestBodyKeepsUnknownFieldsAndRewritesModel() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let reply = try await gw.chat("m0", extra: #","x_custom_field":{"nested":[1,2.50,"three"]},"seed":42"#)
                #expect(reply.status == 200)
                let seen = try await lastRequest(mocks[0])
                let body = try #require(seen["body"] as? String)
                #expect(body.contains(#""x_custom_field":{"nested":[1,2.50,"three"]}"#))
                #expect(body.contains(#""model":"upstream-m0""#))
                #expect(body.contains(#""seed":42"#))
            }
        }
    }

    @Test func providerKeyReplacesTheClientKeyUpstream() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                _ = try await gw.chat("m0")
                let seen = try await lastRequest(mocks[0])
                let headers = try #require(seen["headers"] as? [String: String])
                let auth = headers.first { $0.key.lowercased() == "authorization" }?.value
                #expect(auth == "Bearer \(ProviderKeyEnvironment.value)")
                #expect(!(seen["body"] as? String ?? "").contains(GatewayHarness.demoKey))
                #expect(!headers.values.contains { $0.contains(GatewayHarness.demoKey) })
            }
        }
    }

    @Test func streamDeliversFirstChunkBeforeTheLastIsProduced() async throws {
        // 30 words at 100 ms each: the whole answer takes ~3 s to produce.
        try await GatewayHarness.withMocks([MockFaults(chunkDelayMs: 100, reply: Array(repeating: "word", count: 30).joined(separator: " "))]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let started = ContinuousClock.now
                let response = try await gw.open("POST", "/v1/chat/completions", body: #"{"model":"m0","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
                #expect(response.status == 200)
                #expect(response.headers.first { $0.0 == "content-type" }?.1.hasPrefix("text/event-stream") == true)
                var firstContentAt: Duration?
                var all: [UInt8] = []
                for try await chunk in response.body {
                    all.append(contentsOf: chunk)
                    if firstContentAt == nil, String(decoding: all, as: UTF8.self).contains("\"content\":\"word\"") {
                        firstContentAt = ContinuousClock.now - started
                    }
                }
                let total = ContinuousClock.now - started
                let first = try #require(firstContentAt)
                #expect(first < .milliseconds(1500))
                #expect(total > .milliseconds(2500))
                let text = String(decoding: all, as: UTF8.self)
                #expect(text.hasSuffix("data: [DONE]\n\n"))
                #expect(text.components(separatedBy: "\"content\":\" word\"").count - 1 == 29)
            }
        }
    }

    @Test func concurrentFirstStreamsToACleartextProviderDoNotWaitForEachOther() async throws {
        // 20 words at 50 ms: each stream lasts ~1 s. A fresh gateway has no connection to the
        // provider yet; none of the four must wait for another stream to end before starting.
        try await GatewayHarness.withMocks([MockFaults(chunkDelayMs: 50, reply: Array(repeating: "word", count: 20).joined(separator: " "))]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let firsts = try await withThrowingTaskGroup(of: Duration.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            let started = ContinuousClock.now
                            let response = try await gw.open(
                                "POST", "/v1/chat/completions", body: #"{"model":"m0","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
                            var first: Duration?
                            for try await chunk in response.body where first == nil && !chunk.isEmpty {
                                first = ContinuousClock.now - started
                            }
                            return first ?? .seconds(60)
                        }
                    }
                    return try await group.reduce(into: [Duration]()) { $0.append($1) }
                }
                #expect(firsts.count == 4)
                for first in firsts { #expect(first < .milliseconds(600)) }
            }
        }
    }

    @Test func midStreamResetEndsWithAnErrorEvent() async throws {
        try await GatewayHarness.withMocks([MockFaults(resetAfterChunks: 3)]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let reply = try await gw.chat("m0", content: "one two three four five six", stream: true)
                #expect(reply.status == 200)
                let text = reply.text
                #expect(text.contains("data: {\"error\":"))
                #expect(!text.contains("[DONE]"))
                let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last?.hasPrefix("data: {\"error\":") == true)
            }
        }
    }

    @Test func embeddingsAndModelsWork() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    models: [m0]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let embed = try await gw.request("POST", "/v1/embeddings", body: #"{"model":"m0","input":["a","b"]}"#)
                #expect(embed.status == 200)
                #expect((embed.json?["data"] as? [Any])?.count == 2)
                let models = try await gw.request("GET", "/v1/models")
                let ids = (models.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(ids == ["m0"])
                let denied = try await gw.chat("m1")
                #expect(denied.status == 403 || denied.status == 404)
                let chainDenied = try await gw.chat("chain")
                #expect(chainDenied.status == 403)
                #expect(chainDenied.errorCode == "model_not_allowed")
            }
        }
    }

    @Test func mockProviderAnswersBase64EmbeddingsAsLittleEndianFloat32() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                func first(_ format: String) async throws -> Any? {
                    let reply = try await gw.request("POST", "/v1/embeddings", body: #"{"model":"m0","input":"b64","encoding_format":"\#(format)"}"#)
                    #expect(reply.status == 200)
                    return ((reply.json?["data"] as? [[String: Any]])?.first)?["embedding"]
                }
                let floats = try #require(try await first("float") as? [Double])
                let encoded = try #require(try await first("base64") as? String)
                let bytes = try #require(Data(base64Encoded: encoded))
                #expect(bytes.count == floats.count * 4)
                let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
                    let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[bytes.startIndex + offset + $1]) << UInt32($1 * 8) }
                    return Double(Float(bitPattern: bits))
                }
                #expect(zip(decoded, floats).allSatisfy { abs($0 - $1) < 1e-5 })
            }
        }
    }

    @Test func clientDisconnectCancelsTheUpstreamTransfer() async throws {
        try await GatewayHarness.withMocks([MockFaults(chunkDelayMs: 200, reply: Array(repeating: "slow", count: 100).joined(separator: " "))]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let response = try await gw.open("POST", "/v1/chat/completions", body: #"{"model":"m0","messages":[{"role":"user","content":"hi"}],"stream":true}"#)
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                response.body.cancel()
                // The gateway notices at its next write and drops its upstream transfer.
                try await Task.sleep(for: .milliseconds(1500))
                let metrics = try await gw.request("GET", "/metrics", key: nil)
                #expect(metrics.text.contains("tollgate_upstream_active_transfers 0"))
            }
        }
    }
}

extension ProxyTests {
    /// A provider that stalls (no bytes, so the gateway has nothing to write) must still see its
    /// transfer cancelled as soon as the client leaves, not at the idle timeout (20 s here).
    @Test(arguments: [true, false]) func clientDisconnectDuringAProviderStallCancelsTheTransferAtOnce(stream: Bool) async throws {
        try await GatewayHarness.withMocks([MockFaults(latencyMs: stream ? 0 : 5_000, stallAfterChunks: stream ? 2 : nil, stallMs: 5_000)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, timeout: "{connect_ms: 500, first_byte_ms: 60000, total_ms: 60000, idle_ms: 20000}")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let body = #"{"model":"m0","messages":[{"role":"user","content":"hi there friend"}],"stream":\#(stream)}"#
                if stream {
                    let response = try await gw.open("POST", "/v1/chat/completions", body: body)
                    var iterator = response.body.makeAsyncIterator()
                    _ = try await iterator.next()
                    response.body.cancel()
                } else {
                    // Give up waiting for a slow non-streamed answer.
                    let waiting = Task { try await gw.request("POST", "/v1/chat/completions", body: body) }
                    try await Task.sleep(for: .milliseconds(300))
                    waiting.cancel()
                    _ = try? await waiting.value
                }
                var active = ""
                for _ in 0..<40 {
                    try await Task.sleep(for: .milliseconds(50))
                    let metrics = try await gw.request("GET", "/metrics", key: nil)
                    active = metrics.text.split(separator: "\n").first { $0.hasPrefix("tollgate_upstream_active_transfers ") }.map(String.init) ?? ""
                    if active.hasSuffix(" 0") || active.hasSuffix(" 0.0") { break }
                }
                #expect(active.hasSuffix(" 0") || active.hasSuffix(" 0.0"), "still \(active) after 2 s")
            }
        }
    }
}

/// The provider key the test policies name, set once for the whole test process.
enum ProviderKeyEnvironment {
    static let value = "sk-provider-secret-for-tests"
    static func install() { setenv("TOLLGATE_TEST_PROVIDER_KEY", value, 1) }
}

func lastRequest(_ mock: RunningMock) async throws -> [String: Any] {
    let client = CurlClient()
    defer { client.shutdown() }
    let response = try await client.execute(UpstreamRequest(
        method: "GET", url: "http://127.0.0.1:\(mock.port)/mock/last-request", headers: [], body: [],
        timeouts: UpstreamTimeouts(connect: .seconds(2), firstByte: .seconds(5), total: .seconds(10), idle: .seconds(5))))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (try JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
}
