import Foundation
import Testing
import TollgateServer
import TollgateUpstream

@Suite(.serialized) struct BadInputTests {
    init() { ProviderKeyEnvironment.install() }

    static let cases: [(String, String, Int, String?)] = [
        ("malformed JSON", #"{"model": "m0", "messages": [}"#, 400, nil),
        ("not an object", #"[1,2,3]"#, 400, nil),
        ("missing model", #"{"messages":[{"role":"user","content":"x"}]}"#, 400, nil),
        ("model of wrong type", #"{"model":42,"messages":[{"role":"user","content":"x"}]}"#, 400, nil),
        ("missing messages", #"{"model":"m0"}"#, 400, nil),
        ("messages not a list", #"{"model":"m0","messages":"hi"}"#, 400, nil),
        ("message without role", #"{"model":"m0","messages":[{"content":"x"}]}"#, 400, nil),
        ("stream of wrong type", #"{"model":"m0","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#, 400, nil),
        ("unknown model", #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#, 404, "model_not_found"),
        ("lone surrogate", #"{"model":"m0","messages":[{"role":"user","content":"\ud800"}]}"#, 400, nil),
        ("duplicate key", #"{"model":"m0","messages":[{"role":"user","content":"hi","content":"jane.doe@example.com"}]}"#, 400, nil),
    ]

    @Test func badBodiesGetOpenAIErrors() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                for (name, body, status, code) in Self.cases {
                    let reply = try await gw.request("POST", "/v1/chat/completions", body: body)
                    #expect(reply.status == status, "\(name)")
                    let error = reply.json?["error"] as? [String: Any]
                    #expect(error?["message"] is String, "\(name)")
                    #expect(error?["type"] is String, "\(name)")
                    if let code { #expect(reply.errorCode == code, "\(name)") }
                    #expect(reply.header("x-request-id") != nil, "\(name)")
                }
                #expect(mocks[0].provider.requestCount == 0)
            }
        }
    }

    @Test func invalidUTF8IsRefused() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                var body = Array(#"{"model":"m0","messages":[{"role":"user","content":"ab"#.utf8)
                body.append(contentsOf: [0xC3, 0x28, 0xFF])
                body.append(contentsOf: Array(#""}]}"#.utf8))
                let response = try await gw.client.execute(.init(
                    method: "POST", url: gw.baseURL + "/v1/chat/completions",
                    headers: [("authorization", "Bearer \(GatewayHarness.demoKey)"), ("content-type", "application/json")],
                    body: body, timeouts: .init(connect: .seconds(2), firstByte: .seconds(5), total: .seconds(10), idle: .seconds(5))))
                #expect(response.status == 400)
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
    }

    @Test func authFailuresAreOpenAIShaped() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let missing = try await gw.chat("m0", key: nil)
                #expect(missing.status == 401)
                #expect(missing.errorCode == "invalid_api_key")
                let wrong = try await gw.chat("m0", key: "sk-tg-wrong")
                #expect(wrong.status == 401)
                #expect(wrong.errorCode == "invalid_api_key")
                let azure = try await gw.request(
                    "POST", "/v1/chat/completions", body: #"{"model":"m0","messages":[{"role":"user","content":"x"}]}"#, key: nil,
                    headers: [("api-key", GatewayHarness.demoKey)])
                #expect(azure.status == 200)
            }
        }
    }

    @Test func oversizedBodyGets413() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "server: {max_body_bytes: 4096}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let big = String(repeating: "a", count: 10_000)
                let reply = try await gw.chat("m0", content: big)
                #expect(reply.status == 413)
                #expect(reply.json?["error"] != nil)
            }
        }
    }

    @Test func chunkedBodyOverTheLimitGets413NotA500() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "server: {max_body_bytes: 4096}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let body = #"{"model":"m0","messages":[{"role":"user","content":""# + String(repeating: "a", count: 10_000) + #""}]}"#
                let chunks = stride(from: 0, to: body.utf8.count, by: 1000).map { start in
                    let piece = String(decoding: Array(body.utf8)[start..<min(start + 1000, body.utf8.count)], as: UTF8.self)
                    return String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n"
                }.joined()
                let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(GatewayHarness.demoKey)\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                let answer = try RawHTTPClient.exchange(port: gw.port, bytes: head + chunks + "0\r\n\r\n", waitSeconds: 5)
                #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
                #expect(answer.contains("request_too_large"))
            }
        }
    }

    @Test func compressedBodyGets415NamingTheEncoding() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let body = #"{"model":"m0","messages":[{"role":"user","content":"hi"}]}"#
                let gzipped = try await gw.request("POST", "/v1/chat/completions", body: body, headers: [("content-encoding", "gzip")])
                #expect(gzipped.status == 415)
                #expect(gzipped.errorCode == "unsupported_content_encoding")
                let identity = try await gw.request("POST", "/v1/chat/completions", body: body, headers: [("content-encoding", "identity")])
                #expect(identity.status == 200)
                let embeddings = try await gw.request(
                    "POST", "/v1/embeddings", body: #"{"model":"m0","input":"hi"}"#, headers: [("content-encoding", "br")])
                #expect(embeddings.status == 415)
            }
        }
    }

    @Test func unknownPathIsAnOpenAIError() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let reply = try await gw.request("GET", "/v1/nothing-here")
                #expect(reply.status == 404)
                #expect(reply.json?["error"] != nil)
                #expect(reply.header("x-request-id") != nil)
            }
        }
    }

    @Test func hugeHeadersAreRefusedWithoutCrashing() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let huge = String(repeating: "x", count: 200_000)
                _ = try? await gw.request("GET", "/v1/models", headers: [("x-huge", huge)])
                let after = try await gw.request("GET", "/healthz", key: nil)
                #expect(after.status == 200)
            }
        }
    }
}
