/// Text hidden as hexadecimal bytes ("69676e6f726520616c6c" or "69 67 6e 6f 72 65"), decoded so the
/// injection rules see what it says, as base64 and `%XX` segments are.
///
/// Hex runs are common in ordinary text (hashes, ids, colours), and nearly all decode to binary noise;
/// a run counts only when it decodes to valid UTF-8 that is mostly printable and holds a space, the
/// same test decoded base64 passes. Finding them costs little: contiguous hex is a base64 run the
/// normalizer has already found, and the scan for the spaced form skips most of the text.
enum HexSegments {
    /// Bytes a run must decode to before it is looked at: eight.
    static let minimumBytes = 8

    /// The texts the message's hex runs decode to, in order: contiguous ones among `base64Runs`
    /// (hex digits are base64 characters), then space-separated byte pairs.
    static func decodedTexts(in bytes: UnsafeBufferPointer<UInt8>, base64Runs: [Range<Int>]) -> [String] {
        var texts: [String] = []
        for run in base64Runs where run.count >= 2 * minimumBytes && run.count % 2 == 0 {
            guard run.allSatisfy({ digits[Int(bytes[$0])] != 255 }), !isWordByte(at: run.upperBound, in: bytes) else { continue }
            if let text = printableText(decode(run.count / 2, from: run.lowerBound, step: 2, in: bytes)) { texts.append(text) }
        }
        // "hh hh hh": pairs three bytes apart with single spaces between. A run long enough to count
        // that starts in start...start + reach covers start + reach, so when that byte is neither a hex
        // digit nor a space no run starts in the whole stretch (how most of ordinary text is skipped).
        let reach = 3 * minimumBytes - 2
        var start = 0
        while start + reach < bytes.count {
            let probe = bytes[start + reach]
            if digits[Int(probe)] == 255 && probe != 0x20 {
                start += reach + 1
                continue
            }
            guard isPair(at: start, in: bytes), bytes[start + 2] == 0x20, !isWordByte(at: start - 1, in: bytes) else {
                start += 1
                continue
            }
            var pairs = 1
            var end = start + 2
            while end + 2 < bytes.count, bytes[end] == 0x20, isPair(at: end + 1, in: bytes) {
                pairs += 1
                end += 3
            }
            if pairs >= minimumBytes, !isWordByte(at: end, in: bytes),
                let text = printableText(decode(pairs, from: start, step: 3, in: bytes))
            {
                texts.append(text)
            }
            start = end + 1
        }
        return texts
    }

    private static func decode(_ pairs: Int, from start: Int, step: Int, in bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(pairs)
        var index = start
        for _ in 0..<pairs {
            decoded.append(digits[Int(bytes[index])] << 4 | digits[Int(bytes[index + 1])])
            index += step
        }
        return decoded
    }

    private static func printableText(_ decoded: [UInt8]) -> String? {
        guard decoded.contains(0x20), let text = String(validating: decoded, as: UTF8.self), DecodedText.isReadable(text) else { return nil }
        return text
    }

    private static func isPair(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        index + 1 < bytes.count && digits[Int(bytes[index])] != 255 && digits[Int(bytes[index + 1])] != 255
    }

    /// Whether `index` holds a letter, digit or underscore (false past either end): a run next to one is
    /// part of an identifier, not hex text.
    private static func isWordByte(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard index >= 0, index < bytes.count else { return false }
        let byte = bytes[index]
        return UnicodeFolding.isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
    }

    /// The value of a hex digit, nil for any other byte (also what `%XX` decoding reads).
    static func digitValue(_ byte: UInt8) -> UInt8? {
        let value = digits[Int(byte)]
        return value == 255 ? nil : value
    }

    /// Each byte's hex digit value, 255 for bytes that are not hex digits.
    private static let digits: [UInt8] = (0...255).map { value -> UInt8 in
        switch value {
        case 0x30...0x39: return UInt8(value - 0x30)
        case 0x41...0x46: return UInt8(value - 0x41 + 10)
        case 0x61...0x66: return UInt8(value - 0x61 + 10)
        default: return 255
        }
    }
}
