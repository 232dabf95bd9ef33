import Foundation
import Testing
import TollgateStore
@testable import TollgateServer
import TollgateUpstream

/// Issue 3 end to end: admin-issued keys through real HTTP, on the embedded store and on Redis.
@Suite(.serialized) struct KeysLifecycleTests {
    init() { ProviderKeyEnvironment.install() }

    // MARK: create → use → list → revoke

    @Test func issuedKeyWorksIsListedWithoutSecretAndIsRefusedRightAfterRevocationEmbedded() async throws {
        try await createUseListRevoke(on: .embedded)
    }

    @Test(.enabled(if: TestRedis.enabled)) func issuedKeyWorksIsListedWithoutSecretAndIsRefusedRightAfterRevocationRedis() async throws {
        try await createUseListRevoke(on: .redis)
    }

    private func createUseListRevoke(on backend: StoreBackend) async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(on: backend, policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let created = try await gw.admin("POST", "/admin/keys", body: #"{"team":"t1","name":"ci bot"}"#)
                #expect(created.status == 201)
                let secret = try #require(created.json?["key"] as? String)
                let id = try #require(created.json?["id"] as? String)
                #expect(secret.hasPrefix("sk-tg-") && secret.count >= 6 + 32)
                #expect(id.hasPrefix("key_"))
                #expect(created.json?["team"] as? String == "t1")
                #expect(created.json?["hash"] == nil)

                // Bearer and Azure-style `api-key` both authenticate.
                #expect(try await gw.chat("m0", key: secret).status == 200)
                let azure = try await gw.request(
                    "POST", "/v1/chat/completions", body: #"{"model":"m0","messages":[{"role":"user","content":"hi"}]}"#, key: nil,
                    headers: [("api-key", secret)])
                #expect(azure.status == 200)

                let listed = try await gw.admin("GET", "/admin/keys?team=t1")
                #expect(listed.status == 200)
                let data = try #require(listed.json?["data"] as? [[String: Any]])
                let entry = try #require(data.first { $0["id"] as? String == id })
                #expect(entry["name"] as? String == "ci bot")
                #expect(entry["key"] == nil && entry["hash"] == nil && entry["secret"] == nil)
                #expect(!listed.text.contains(secret))
                #expect(!listed.text.contains(KeyCrypto.sha256Hex(secret)))
                let otherTeam = try await gw.admin("GET", "/admin/keys?team=nobody")
                #expect((otherTeam.json?["data"] as? [Any])?.isEmpty == true)

                let revoked = try await gw.admin("DELETE", "/admin/keys/\(id)")
                #expect(revoked.status == 200)
                #expect(revoked.json?["revoked_at"] is String)
                // No wait: the very next request is refused.
                let after = try await gw.chat("m0", key: secret)
                #expect(after.status == 401)
                #expect(after.errorCode == "invalid_api_key")
                #expect(after.isOpenAIError)
                let relisted = try await gw.admin("GET", "/admin/keys")
                let again = (relisted.json?["data"] as? [[String: Any]])?.first { $0["id"] as? String == id }
                #expect(again?["revoked_at"] is String)
                // Revoking twice is harmless; an unknown id is a 404.
                #expect(try await gw.admin("DELETE", "/admin/keys/\(id)").status == 200)
                let missing = try await gw.admin("DELETE", "/admin/keys/key_doesnotexist00")
                #expect(missing.status == 404 && missing.isOpenAIError)
            }
        }
    }

    // MARK: expiry

    @Test func keyStopsWorkingAtItsExpiryEmbedded() async throws { try await expiry(on: .embedded) }

    @Test(.enabled(if: TestRedis.enabled)) func keyStopsWorkingAtItsExpiryRedis() async throws { try await expiry(on: .redis) }

    private func expiry(on backend: StoreBackend) async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(on: backend, policy: GatewayHarness.policy(mocks: mocks)) { gw in
                // Whole seconds (RFC 3339 without fraction), at least 2 s ahead.
                let expiresAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3).rounded(.down))
                let formatter = ISO8601DateFormatter()
                let key = try await gw.issueKey(fields: #","expires_at":"\#(formatter.string(from: expiresAt))""#)
                #expect(try await gw.chat("m0", key: key.secret).status == 200)
                let wait = expiresAt.timeIntervalSinceNow + 0.2
                if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
                let expired = try await gw.chat("m0", key: key.secret)
                #expect(expired.status == 401)
                #expect(expired.errorCode == "invalid_api_key")
            }
        }
    }

    // MARK: persistence and replicas

    @Test func restartedGatewayKeepsIssuedAndRevokedKeys() async throws {
        let dataDirectory = try GatewayHarness.temporaryDirectory() + "/data"
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks)
            let (kept, revoked) = try await GatewayHarness.withGateway(policy: policy, dataDirectory: dataDirectory) { gw in
                let kept = try await gw.issueKey(fields: #","name":"kept""#)
                let revoked = try await gw.issueKey(fields: #","name":"revoked""#)
                #expect(try await gw.admin("DELETE", "/admin/keys/\(revoked.id)").status == 200)
                return (kept, revoked)
            }
            try await GatewayHarness.withGateway(policy: policy, dataDirectory: dataDirectory) { gw in
                #expect(try await gw.chat("m0", key: kept.secret).status == 200)
                #expect(try await gw.chat("m0", key: revoked.secret).status == 401)
                let list = try await gw.admin("GET", "/admin/keys")
                let data = list.json?["data"] as? [[String: Any]] ?? []
                #expect(Set(data.compactMap { $0["id"] as? String }) == [kept.id, revoked.id])
                #expect(data.first { $0["id"] as? String == revoked.id }?["revoked_at"] is String)
            }
        }
    }

    @Test(.enabled(if: TestRedis.enabled)) func twoGatewaysSharingRedisSeeEachOthersKeysAndRevocationsWithinOneSecond() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks)
            try await TestRedis.withDatabase { url in
                try await GatewayHarness.withGateway(policy: policy, redisURL: url) { a in
                    try await GatewayHarness.withGateway(policy: policy, redisURL: url) { b in
                        let key = try await a.issueKey()
                        // Issued on A, usable on B (and B's cache now holds it).
                        #expect(try await b.chat("m0", key: key.secret).status == 200)
                        #expect(try await b.chat("m0", key: key.secret).status == 200)
                        let listed = try await b.admin("GET", "/admin/keys")
                        #expect((listed.json?["data"] as? [[String: Any]])?.contains { $0["id"] as? String == key.id } == true)

                        let started = ContinuousClock.now
                        #expect(try await a.admin("DELETE", "/admin/keys/\(key.id)").status == 200)
                        var refusedAfter: Double?
                        while seconds(since: started) < 3 {
                            if try await b.chat("m0", key: key.secret).status == 401 {
                                refusedAfter = seconds(since: started)
                                break
                            }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        let propagation = try #require(refusedAfter, "replica B still accepted the revoked key after 3 s")
                        print("[figure] revocation propagation A→B over Redis: \(String(format: "%.1f", propagation * 1000)) ms")
                        #expect(propagation < 1.0)

                        // And the other way round: issued on B, revoked on B, refused on A.
                        let other = try await b.issueKey()
                        #expect(try await a.chat("m0", key: other.secret).status == 200)
                        #expect(try await b.admin("DELETE", "/admin/keys/\(other.id)").status == 200)
                        try await Task.sleep(for: .seconds(1))
                        #expect(try await a.chat("m0", key: other.secret).status == 401)
                    }
                }
            }
        }
    }

    // MARK: nothing plaintext at rest

    @Test func noFileInTheDataDirectoryContainsAPlaintextKey() async throws {
        let dataDirectory = try GatewayHarness.temporaryDirectory() + "/data"
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let secrets = try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 1000\n    budget: {tokens: 1000000, period: daily}\n"), dataDirectory: dataDirectory) { gw in
                var secrets: [String] = []
                for index in 0..<5 {
                    let key = try await gw.issueKey(fields: #","name":"scan \#(index)""#)
                    secrets.append(key.secret)
                    #expect(try await gw.chat("m0", key: key.secret).status == 200)
                    #expect(try await gw.chat("m0", stream: true, key: key.secret).status == 200)
                }
                #expect(try await gw.admin("DELETE", "/admin/keys/\(try await gw.issueKey().id)").status == 200)
                return secrets
            }
            let files = FileManager.default.enumerator(atPath: dataDirectory)?.compactMap { $0 as? String } ?? []
            var scanned = 0
            for file in files {
                let path = dataDirectory + "/" + file
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
                scanned += 1
                #expect(!text.contains("sk-tg-"), "\(file) contains a key prefix")
                for secret in secrets {
                    #expect(!text.contains(secret), "\(file) contains a plaintext key")
                    #expect(!text.contains(String(secret.dropFirst(6))), "\(file) contains a key body")
                }
            }
            #expect(scanned >= 1, "the gateway wrote no file to scan under \(dataDirectory)")
            let keysFile = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dataDirectory + "/keys.json")), as: UTF8.self)
            for secret in secrets { #expect(keysFile.contains(KeyCrypto.sha256Hex(secret)), "keys.json should hold the hash") }
        }
    }

    @Test(.enabled(if: TestRedis.enabled)) func noRedisValueContainsAPlaintextKey() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 1000\n    budget: {tokens: 1000000, period: daily}\n")
            try await TestRedis.withDatabase { url in
                let secrets = try await GatewayHarness.withGateway(policy: policy, redisURL: url) { gw in
                    var secrets: [String] = []
                    for _ in 0..<3 {
                        let key = try await gw.issueKey(fields: #","name":"scan""#)
                        secrets.append(key.secret)
                        #expect(try await gw.chat("m0", key: key.secret).status == 200)
                    }
                    #expect(try await gw.admin("DELETE", "/admin/keys/\(try await gw.issueKey().id)").status == 200)
                    return secrets
                }
                let (host, port) = try TestRedis.hostAndPort(url)
                let db = URLComponents(string: url)?.path.dropFirst().description ?? ""
                let select = ["SELECT", db.isEmpty ? "0" : db]
                let names = try RESPClient.command(host: host, port: port, select, ["KEYS", "*"]).split(separator: "\n").map(String.init)
                #expect(names.count >= 5, "expected key records and counters in Redis, found \(names)")
                var dump = names.joined(separator: "\n")
                for name in names {
                    let type = try RESPClient.command(host: host, port: port, select, ["TYPE", name])
                    switch type {
                    case "string": dump += try RESPClient.command(host: host, port: port, select, ["GET", name])
                    case "hash": dump += try RESPClient.command(host: host, port: port, select, ["HGETALL", name])
                    case "set": dump += try RESPClient.command(host: host, port: port, select, ["SMEMBERS", name])
                    default: dump += type
                    }
                }
                #expect(!dump.contains("sk-tg-"))
                for secret in secrets {
                    #expect(!dump.contains(String(secret.dropFirst(6))), "a key body is stored in Redis")
                    #expect(dump.contains(KeyCrypto.sha256Hex(secret)), "Redis should hold the key's hash")
                }
            }
        }
    }

    // MARK: models override

    @Test func modelsEndpointListsOnlyTheKeysAllowedModels() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, teamExtra: "    models: [m0, m1]\n")) { gw in
                let key = try await gw.issueKey(fields: #","models":["m1"]"#)
                let models = try await gw.request("GET", "/v1/models", key: key.secret)
                #expect(models.status == 200)
                let ids = (models.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                #expect(ids == ["m1"])
                let team = try await gw.request("GET", "/v1/models")
                #expect(Set((team.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []) == ["m0", "m1"])
                #expect(try await gw.chat("m1", key: key.secret).status == 200)
                let refused = try await gw.chat("m0", key: key.secret)
                #expect(refused.status == 403)
                #expect(refused.errorCode == "model_not_allowed")
                // A key cannot be given a model its team lacks.
                let wider = try await gw.admin("POST", "/admin/keys", body: #"{"team":"t1","models":["chain"]}"#)
                #expect(wider.status == 400 && wider.isOpenAIError)
            }
        }
    }
}
