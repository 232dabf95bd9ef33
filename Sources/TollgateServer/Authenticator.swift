import HTTPTypes
import TollgateCore
import TollgateStore

/// Who is calling: the key's public id and its team, plus any per-key tightening.
struct Principal: Sendable, Equatable {
    var keyID: String
    var team: String
    var rpm: Int?
    var tpm: Int?
    /// A subset of the team's models this key is limited to; nil means the team's list.
    var models: [String]?
}

/// The seam between request handling and wherever keys live (policy file, embedded store,
/// Redis), so handlers never know which one answered.
protocol Authenticator: Sendable {
    func authenticate(secret: String, policy: PolicySnapshot) async throws(GatewayError) -> Principal
}

/// Pulls the client's key from `Authorization: Bearer` or Azure-style `api-key`.
enum CredentialExtractor {
    static func secret(from headers: HTTPFields) -> String? {
        if let auth = headers[.authorization] {
            let trimmed = auth.trimmingSpaces()
            let prefix = "bearer "
            if trimmed.count > prefix.count, trimmed.prefix(prefix.count).lowercased() == prefix {
                let token = String(trimmed.dropFirst(prefix.count)).trimmingSpaces()
                return token.isEmpty ? nil : token
            }
            return nil
        }
        if let key = headers[.apiKey]?.trimmingSpaces(), !key.isEmpty { return key }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Authenticates against the SHA-256 digests listed under `teams.<t>.keys` in the policy.
struct PolicyKeyAuthenticator: Authenticator {
    func authenticate(secret: String, policy: PolicySnapshot) async throws(GatewayError) -> Principal {
        guard let principal = Self.principal(hash: KeyCrypto.sha256Hex(secret), policy: policy) else { throw .invalidAPIKey() }
        return principal
    }

    static func principal(hash: String, policy: PolicySnapshot) -> Principal? {
        policy.staticKeyTeams[hash].map { Principal(keyID: "policy:" + String(hash.prefix(12)), team: $0) }
    }
}
