import COpenSSL

/// SHA-256 through OpenSSL's libcrypto, the one crypto dependency the design names.
enum Digest {
    static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let input = Array(bytes)
        input.withUnsafeBufferPointer { buffer in
            out.withUnsafeMutableBufferPointer { result in
                _ = SHA256(buffer.baseAddress, buffer.count, result.baseAddress)
            }
        }
        return out
    }

    static func sha256Hex(_ text: String) -> String { hex(sha256(Array(text.utf8))) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
