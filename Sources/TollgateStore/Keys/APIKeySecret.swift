import TollgateCore

/// A freshly issued client key. The plaintext exists only in this value, long enough to show it once;
/// stores receive `hash`.
public struct APIKeySecret: Sendable, CustomStringConvertible {
    /// `sk-tg-` followed by 40 base62 characters (~238 bits of entropy).
    public let plaintext: String

    /// Parses a presented key; nil when it does not have the issued shape (cheap rejection before hashing).
    public init?(presented: String) {
        guard APIKeyFormat.isWellFormedSecret(presented) else { return nil }
        self.plaintext = presented
    }

    private init(uncheckedPlaintext: String) { self.plaintext = uncheckedPlaintext }

    /// Generates a new secret from OpenSSL's CSPRNG with rejection sampling (no modulo bias).
    public static func generate() throws -> APIKeySecret {
        guard let body = APIKeyFormat.base62(count: APIKeyFormat.secretRandomLength, nextBytes: KeyCrypto.randomBytes)
        else { throw StoreError.unavailable("the system random generator failed") }
        return APIKeySecret(uncheckedPlaintext: APIKeyFormat.secretPrefix + body)
    }

    /// Hex SHA-256 of the plaintext: the only form that is stored and the lookup key.
    public var hash: String { KeyCrypto.sha256Hex(plaintext) }

    /// Never prints the secret, so a stray interpolation into a log cannot leak it.
    public var description: String { "sk-tg-…(redacted)" }
}

/// Public, non-secret key identifiers (`key_` + 12 base62 characters) used in admin URLs and usage.
public enum APIKeyID {
    public static func generate() throws -> String {
        guard let body = APIKeyFormat.base62(count: APIKeyFormat.idRandomLength, nextBytes: KeyCrypto.randomBytes)
        else { throw StoreError.unavailable("the system random generator failed") }
        return APIKeyFormat.idPrefix + body
    }
}
