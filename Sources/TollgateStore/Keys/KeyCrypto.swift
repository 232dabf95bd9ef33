import COpenSSL
import Foundation

/// SHA-256, HMAC and comparison helpers on OpenSSL libcrypto.
///
/// Keys are stored and looked up only by their SHA-256, so a leaked store never yields a usable secret;
/// the comparison helper runs in time independent of where inputs differ, for admin tokens.
public enum KeyCrypto {
    /// Lower-case hex SHA-256 of the bytes.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return hex(digest)
    }

    /// Lower-case hex SHA-256 of the string's UTF-8.
    public static func sha256Hex(_ string: String) -> String { sha256Hex(Array(string.utf8)) }

    /// HMAC-SHA256 (raw 32 bytes); used for cache keys and the audit chain.
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { keyBuffer in
            data.withUnsafeBufferPointer { dataBuffer in
                output.withUnsafeMutableBufferPointer { out in
                    _ = HMAC(
                        EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count), dataBuffer.baseAddress,
                        dataBuffer.count, out.baseAddress, &length)
                }
            }
        }
        return Array(output.prefix(Int(length)))
    }

    /// Constant-time equality: the time taken depends only on the lengths, never on the content.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    /// Constant-time equality of two strings' UTF-8.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        constantTimeEquals(Array(lhs.utf8), Array(rhs.utf8))
    }

    /// Cryptographically secure random bytes; empty if OpenSSL's generator fails (never weak bytes).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        return ok == 1 ? bytes : []
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Free functions the brief names, forwarding to `KeyCrypto`.
public func sha256Hex(_ bytes: [UInt8]) -> String { KeyCrypto.sha256Hex(bytes) }
public func sha256Hex(_ string: String) -> String { KeyCrypto.sha256Hex(string) }
public func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { KeyCrypto.hmacSHA256(key: key, data: data) }
public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool { KeyCrypto.constantTimeEquals(lhs, rhs) }
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool { KeyCrypto.constantTimeEquals(lhs, rhs) }

extension KeyCrypto {
    /// Hex SHA-1, only to name Lua scripts for EVALSHA (Redis identifies scripts by SHA-1).
    static func sha1Hex(_ string: String) -> String {
        let bytes = Array(string.utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in _ = SHA1(input.baseAddress, input.count, output.baseAddress) }
        }
        return hex(digest)
    }
}
