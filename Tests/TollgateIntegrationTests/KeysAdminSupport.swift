import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Which state store a gateway under test runs on.
enum StoreBackend: String, Sendable, CustomStringConvertible {
    case embedded
    case redis
    var description: String { rawValue }
}

/// An admin-issued key as the 201 answer shows it (the only time the secret is visible).
struct IssuedKey: Sendable {
    let id: String
    let secret: String
}

extension GatewayHarness {
    static let adminToken = "test-admin-token"

    /// Runs a gateway on `backend`: the embedded store in a fresh data dir, or a fresh Redis database.
    static func withGateway<T: Sendable>(
        on backend: StoreBackend, policy: String, dataDirectory: String? = nil,
        _ body: @Sendable @escaping (RunningGateway) async throws -> T
    ) async throws -> T {
        switch backend {
        case .embedded:
            return try await withGateway(policy: policy, dataDirectory: dataDirectory, body)
        case .redis:
            return try await TestRedis.withDatabase { url in
                try await withGateway(policy: policy, redisURL: url, body)
            }
        }
    }
}

extension RunningGateway {
    /// Calls the admin API with the test admin token (or `token`).
    func admin(_ method: String, _ path: String, body: String? = nil, token: String? = GatewayHarness.adminToken) async throws -> Reply {
        try await request(method, path, body: body, key: token)
    }

    /// Issues a key through `POST /admin/keys`; `fields` are extra JSON members (with leading comma).
    func issueKey(team: String = "t1", fields: String = "", token: String = GatewayHarness.adminToken) async throws -> IssuedKey {
        let reply = try await admin("POST", "/admin/keys", body: #"{"team":"\#(team)"\#(fields)}"#, token: token)
        try #require(reply.status == 201, "create key: \(reply.status) \(reply.text)")
        let id = try #require(reply.json?["id"] as? String)
        let secret = try #require(reply.json?["key"] as? String)
        return IssuedKey(id: id, secret: secret)
    }

    /// `GET /admin/usage?team=` as JSON.
    func usage(team: String = "t1") async throws -> [String: Any] {
        let reply = try await admin("GET", "/admin/usage?team=\(team)")
        try #require(reply.status == 200, "usage: \(reply.status) \(reply.text)")
        return try #require(reply.json)
    }

    /// `usage.total.<field>` as an integer.
    func usageTotal(_ field: String, team: String = "t1") async throws -> Int {
        let total = try await usage(team: team)["total"] as? [String: Any]
        return (total?[field] as? NSNumber)?.intValue ?? -1
    }
}

extension RunningGateway.Reply {
    var errorType: String? { (json?["error"] as? [String: Any])?["type"] as? String }
    var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }

    /// True for an OpenAI-shaped error: `{"error":{"message","type","param","code"}}`.
    var isOpenAIError: Bool {
        guard let error = json?["error"] as? [String: Any] else { return false }
        return error["message"] is String && error["type"] is String && error.keys.contains("param") && error.keys.contains("code")
    }
}

/// Runs `count` requests at once and returns their replies (in completion order).
func concurrently(_ count: Int, _ request: @Sendable @escaping (Int) async throws -> RunningGateway.Reply) async throws -> [RunningGateway.Reply] {
    try await withThrowingTaskGroup(of: RunningGateway.Reply.self) { group in
        for index in 0..<count { group.addTask { try await request(index) } }
        var replies: [RunningGateway.Reply] = []
        for try await reply in group { replies.append(reply) }
        return replies
    }
}

/// Seconds since `start`, as a Double.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
