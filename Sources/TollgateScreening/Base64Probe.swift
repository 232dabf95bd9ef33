/// A cheap look at what a base64 run decodes to, before the full decode in `InjectionNormalizer.base64Text`.
///
/// Long runs of base64 characters are common in ordinary text (paths, identifiers, keys, hashes), and
/// nearly all of them decode to binary noise, which `base64Text` rejects because it holds no space. The
/// probe decodes with a table, without allocating, and answers only that question. It decodes the same
/// bytes Foundation does whenever Foundation accepts the run (base64 is deterministic; trailing bits that
/// do not fill a byte are dropped by both), so a run it rejects would have been rejected anyway.
enum Base64Probe {
    /// Whether the run (standard or URL-safe alphabet, `=` ignored, a lone trailing character dropped as
    /// `base64Text` drops it) decodes to bytes containing a space (0x20).
    static func decodesToSpace(_ run: UnsafeBufferPointer<UInt8>) -> Bool {
        var characters = 0
        for byte in run where byte != 0x3D { characters += 1 }
        // `base64Text` drops the last character of a run whose length leaves one spare character.
        let usable = characters % 4 == 1 ? characters - 1 : characters
        return values.withUnsafeBufferPointer { values in
            var accumulated: UInt32 = 0
            var bits = 0
            var used = 0
            for byte in run where byte != 0x3D {
                guard used < usable else { break }
                used += 1
                let value = values[Int(byte)]
                // Not in the alphabet: Foundation rejects the run, so it never decodes to a space.
                guard value < 64 else { return false }
                accumulated = accumulated << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    if (accumulated >> UInt32(bits)) & 0xFF == 0x20 { return true }
                    accumulated &= (1 << UInt32(bits)) - 1
                }
            }
            return false
        }
    }

    /// The 6-bit value of each byte in the standard and URL-safe alphabets, 255 for other bytes.
    private static let values: [UInt8] = (0...255).map { value -> UInt8 in
        switch value {
        case 0x41...0x5A: return UInt8(value - 0x41)
        case 0x61...0x7A: return UInt8(value - 0x61 + 26)
        case 0x30...0x39: return UInt8(value - 0x30 + 52)
        case 0x2B, 0x2D: return 62
        case 0x2F, 0x5F: return 63
        default: return 255
        }
    }
}
