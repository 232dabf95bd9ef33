import Foundation

/// One issued key as every store keeps it: the secret's SHA-256, never the secret.
///
/// `rpm`, `tpm` and `models` are per-key overrides; the gateway applies them only to tighten the team's
/// policy (the store does not know the policy, so it does not enforce that).
public struct APIKeyRecord: Codable, Sendable, Hashable {
    public var id: String
    public var team: String
    public var name: String
    public var hash: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var rpm: Int?
    public var tpm: Int?
    public var models: [String]?

    public init(
        id: String, team: String, name: String, hash: String, createdAt: Date, expiresAt: Date? = nil,
        revokedAt: Date? = nil, rpm: Int? = nil, tpm: Int? = nil, models: [String]? = nil
    ) {
        self.id = id
        self.team = team
        self.name = name
        self.hash = hash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.rpm = rpm
        self.tpm = tpm
        self.models = models
    }

    /// Whether the key may authenticate at `now`: not revoked and not past its expiry.
    public func isUsable(at now: Date) -> Bool {
        if let revokedAt, revokedAt <= now { return false }
        if let expiresAt, expiresAt <= now { return false }
        return true
    }
}
