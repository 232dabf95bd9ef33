import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// `tollgate keys create|list|revoke` run as a real process against a running gateway.
@Suite(.serialized) struct KeysCLITests {
    init() { ProviderKeyEnvironment.install() }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> TollgateExecutable.Run {
        try await TollgateExecutable.run(arguments, environment: environment)
    }

    @Test func cliCreatesListsAndRevokesKeysThroughTheAdminAPI() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 100\n")) { gw in
                let connection = ["--url", gw.baseURL, "--admin-token", GatewayHarness.adminToken]
                let created = try await Self.run(["keys", "create", "--team", "t1", "--name", "cli key", "--expires", "30d", "--rpm", "10"] + connection)
                #expect(created.status == 0, "\(created.stderr)")
                let lines = created.stdout.split(separator: "\n").map(String.init)
                let secret = try #require(lines.first)
                #expect(secret.hasPrefix("sk-tg-"))
                let id = try #require(lines.dropFirst().first?.split(separator: " ").dropFirst().first.map(String.init))
                #expect(id.hasPrefix("key_"))
                #expect(created.stderr.contains("only once"))
                #expect(try await gw.chat("m0", key: secret).status == 200)

                // Token from the environment this time.
                let listed = try await Self.run(["keys", "list", "--team", "t1", "--url", gw.baseURL], environment: ["TOLLGATE_ADMIN_TOKEN": GatewayHarness.adminToken])
                #expect(listed.status == 0, "\(listed.stderr)")
                #expect(listed.stdout.contains(id) && listed.stdout.contains("cli key") && listed.stdout.contains("active"))
                #expect(!listed.stdout.contains(secret))
                let listedJSON = try await Self.run(["keys", "list", "--json"] + connection)
                let data = ((try? JSONSerialization.jsonObject(with: Data(listedJSON.stdout.utf8))) as? [String: Any])?["data"] as? [[String: Any]]
                let record = data?.first { $0["id"] as? String == id }
                #expect(record?["rpm"] as? Int == 10)
                #expect(record?["expires_at"] is String)

                let revoked = try await Self.run(["keys", "revoke", id] + connection)
                #expect(revoked.status == 0, "\(revoked.stderr)")
                #expect(try await gw.chat("m0", key: secret).status == 401)
                let relisted = try await Self.run(["keys", "list"] + connection)
                #expect(relisted.stdout.contains("revoked"))
            }
        }
    }

    @Test func cliExplainsFailuresAndExitsNonZero() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let url = ["--url", gw.baseURL]
                let wrongToken = try await Self.run(["keys", "list", "--admin-token", "nope"] + url)
                #expect(wrongToken.status != 0)
                #expect(wrongToken.stderr.contains("403"))
                let noToken = try await Self.run(["keys", "list"] + url)
                #expect(noToken.status != 0 && noToken.stderr.contains("TOLLGATE_ADMIN_TOKEN"))
                let unknownTeam = try await Self.run(["keys", "create", "--team", "nope", "--admin-token", GatewayHarness.adminToken] + url)
                #expect(unknownTeam.status != 0 && unknownTeam.stderr.contains("Unknown team"))
                let badExpiry = try await Self.run(["keys", "create", "--team", "t1", "--expires", "soon", "--admin-token", GatewayHarness.adminToken] + url)
                #expect(badExpiry.status != 0 && badExpiry.stderr.contains("--expires"))
                let unknownID = try await Self.run(["keys", "revoke", "key_nope", "--admin-token", GatewayHarness.adminToken] + url)
                #expect(unknownID.status != 0 && unknownID.stderr.contains("404"))
                let port = try FreePort.pick()
                let unreachable = try await Self.run(["keys", "list", "--admin-token", "x", "--url", "http://127.0.0.1:\(port)"])
                #expect(unreachable.status != 0 && unreachable.stderr.contains("Cannot reach"))
                let listed = try await gw.admin("GET", "/admin/keys")
                #expect((listed.json?["data"] as? [Any])?.isEmpty == true)
            }
        }
    }
}
