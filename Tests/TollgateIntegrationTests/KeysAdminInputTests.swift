import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Bad input to the admin API gets a 4xx OpenAI-shaped error, never a crash or a key.
@Suite(.serialized) struct KeysAdminInputTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func badKeyRequestsGetFourHundredsWithOpenAIErrors() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 100\n")) { gw in
                let longName = String(repeating: "n", count: 10_000)
                let cases: [(String, String, Int)] = [
                    ("unknown team", #"{"team":"nope"}"#, 400),
                    ("missing team", #"{"name":"x"}"#, 400),
                    ("team not a string", #"{"team":42}"#, 400),
                    ("malformed JSON", #"{"team":"t1""#, 400),
                    ("not an object", #"["t1"]"#, 400),
                    ("empty body", "", 400),
                    ("date not RFC 3339", #"{"team":"t1","expires_at":"tomorrow"}"#, 400),
                    ("date without zone", #"{"team":"t1","expires_at":"2030-01-01T00:00:00"}"#, 400),
                    ("impossible date", #"{"team":"t1","expires_at":"2030-13-45T25:61:00Z"}"#, 400),
                    ("date in the past", #"{"team":"t1","expires_at":"2001-01-01T00:00:00Z"}"#, 400),
                    ("date as a number", #"{"team":"t1","expires_at":1767225600}"#, 400),
                    ("10,000-char name", #"{"team":"t1","name":"\#(longName)"}"#, 400),
                    ("name not a string", #"{"team":"t1","name":{"a":1}}"#, 400),
                    ("rpm above the team's", #"{"team":"t1","rpm":1000}"#, 400),
                    ("negative rpm", #"{"team":"t1","rpm":-1}"#, 400),
                    ("tpm beyond what the limit math holds", #"{"team":"t1","tpm":9000000000000000000}"#, 400),
                    ("models not a list", #"{"team":"t1","models":"m0"}"#, 400),
                    ("unknown model", #"{"team":"t1","models":["gpt-9"]}"#, 400),
                ]
                for (label, body, status) in cases {
                    let reply = try await gw.admin("POST", "/admin/keys", body: body)
                    #expect(reply.status == status, "\(label): \(reply.status) \(reply.text.prefix(200))")
                    #expect(reply.isOpenAIError, "\(label): \(reply.text.prefix(200))")
                    #expect(reply.json?["key"] == nil, "\(label) must not issue a key")
                    #expect(!reply.text.contains(longName), "\(label): the error echoes the whole input")
                }
                let listed = try await gw.admin("GET", "/admin/keys")
                #expect((listed.json?["data"] as? [Any])?.isEmpty == true, "no bad request created a key")
                // A huge body is refused before parsing.
                let huge = try await gw.admin("POST", "/admin/keys", body: #"{"team":"t1","name":"\#(String(repeating: "x", count: 200_000))"}"#)
                #expect((400..<500).contains(huge.status) && huge.isOpenAIError)
                // The gateway is still up.
                #expect(try await gw.request("GET", "/healthz", key: nil).status == 200)
            }
        }
    }

    @Test func adminCallsWithoutTheRightTokenGetForbidden() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let body = #"{"team":"t1"}"#
                for token in [nil, "wrong-token", "test-admin-token-but-longer", GatewayHarness.demoKey] as [String?] {
                    for (method, path) in [("POST", "/admin/keys"), ("GET", "/admin/keys"), ("DELETE", "/admin/keys/key_x"), ("GET", "/admin/usage?team=t1")] {
                        let reply = try await gw.admin(method, path, body: method == "POST" ? body : nil, token: token)
                        #expect(reply.status == 403, "\(method) \(path) with \(token == nil ? "no token" : "a wrong token"): \(reply.status)")
                        #expect(reply.isOpenAIError)
                    }
                }
                // A client key is not an admin token, and the admin token is not a client key.
                #expect(try await gw.chat("m0", key: GatewayHarness.adminToken).status == 401)
            }
        }
    }

    @Test func adminAPIIsDisabledWhenNoTokenIsConfigured() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks), adminToken: nil) { gw in
                for token in [nil, "", "test-admin-token"] as [String?] {
                    let reply = try await gw.admin("POST", "/admin/keys", body: #"{"team":"t1"}"#, token: token)
                    #expect(reply.status == 403)
                    #expect(reply.isOpenAIError)
                    #expect(reply.errorMessage?.contains("disabled") == true)
                }
                #expect(try await gw.admin("GET", "/admin/keys").status == 403)
                #expect(try await gw.chat("m0").status == 200)
            }
        }
    }

    @Test func unknownPresentedKeysGetInvalidAPIKey() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                for key in ["sk-tg-" + String(repeating: "A", count: 40), "garbage", String(repeating: "k", count: 5000)] {
                    let reply = try await gw.chat("m0", key: key)
                    #expect(reply.status == 401)
                    #expect(reply.errorCode == "invalid_api_key")
                }
                let none = try await gw.chat("m0", key: nil)
                #expect(none.status == 401 && none.isOpenAIError)
            }
        }
    }
}
