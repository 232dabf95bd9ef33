/// The shape of issued API keys and their public ids, and the unbiased base62 mapping of random bytes.
///
/// Generation itself (OpenSSL `RAND_bytes`) lives in TollgateStore; this file is pure so the format
/// checks and the rejection sampling can be tested with injected bytes.
public enum APIKeyFormat {
    public static let secretPrefix = "sk-tg-"
    public static let secretRandomLength = 40
    public static let idPrefix = "key_"
    public static let idRandomLength = 12
    public static let base62Alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Largest multiple of 62 that fits in a byte; bytes at or above it are discarded so every
    /// character is equally likely (no modulo bias).
    static let rejectionThreshold: UInt8 = 248

    /// Maps random bytes to `count` base62 characters by rejection sampling. `nextBytes` is called for
    /// more bytes whenever rejections used some up; it returns an empty array to signal failure.
    public static func base62(count: Int, nextBytes: (Int) -> [UInt8]) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(count)
        var attempts = 0
        while output.count < count {
            attempts += 1
            if attempts > 64 { return nil }
            let batch = nextBytes(count - output.count + 8)
            if batch.isEmpty { return nil }
            for byte in batch where byte < rejectionThreshold {
                output.append(base62Alphabet[Int(byte % 62)])
                if output.count == count { break }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func isWellFormedSecret(_ candidate: String) -> Bool {
        isPrefixedBase62(candidate, prefix: secretPrefix, length: secretRandomLength)
    }

    public static func isWellFormedID(_ candidate: String) -> Bool {
        isPrefixedBase62(candidate, prefix: idPrefix, length: idRandomLength)
    }

    private static func isPrefixedBase62(_ candidate: String, prefix: String, length: Int) -> Bool {
        let bytes = Array(candidate.utf8)
        let prefixBytes = Array(prefix.utf8)
        guard bytes.count == prefixBytes.count + length, bytes.starts(with: prefixBytes) else { return false }
        return bytes[prefixBytes.count...].allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
        }
    }
}
