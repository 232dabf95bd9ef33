/// Fast checks on UTF-8 text used to pick the cheap paths of the normalizers.
enum ASCII {
    /// Whether the eight bytes at `index` are all ASCII and none is a newline (false when fewer than
    /// eight remain): lets line scans skip plain text a word at a time.
    @inline(__always)
    static func isPlainWord(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 8 <= buffer.count, let base = UnsafeRawPointer(buffer.baseAddress) else { return false }
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        // A byte of `word ^ 0x0A..` is zero exactly where `word` holds a newline (the classic
        // has-zero-byte test, exact when no byte has its top bit set, which the first test rules out).
        let newlines = word ^ 0x0A0A_0A0A_0A0A_0A0A
        let zero = (newlines &- 0x0101_0101_0101_0101) & ~newlines & 0x8080_8080_8080_8080
        return word & 0x8080_8080_8080_8080 == 0 && zero == 0
    }

    /// Whether the eight bytes at `index` are all ASCII (false when fewer than eight remain).
    @inline(__always)
    static func isASCIIWord(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 8 <= buffer.count, let base = UnsafeRawPointer(buffer.baseAddress) else { return false }
        return base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
    }

    /// Whether the eight bytes at `index` hold no ASCII digit (false when fewer than eight remain).
    @inline(__always)
    static func isDigitFreeWord(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 8 <= buffer.count, let base = UnsafeRawPointer(buffer.baseAddress) else { return false }
        // Digits become bytes 0...9 after the xor, and no other byte does; then the exact
        // "some byte is less than 10" test (valid for any bytes, as 10 <= 128).
        let shifted = base.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x3030_3030_3030_3030
        return (shifted &- 0x0A0A_0A0A_0A0A_0A0A) & ~shifted & 0x8080_8080_8080_8080 == 0
    }

    /// The top bit of each of the eight bytes at `index` that is `-`, `_` or `.`, and of no other byte
    /// (nil when fewer than eight remain): a scan jumps straight to the first separator instead of
    /// stepping through the bytes before it.
    @inline(__always)
    static func separatorBits(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt64? {
        guard index + 8 <= buffer.count, let base = UnsafeRawPointer(buffer.baseAddress) else { return nil }
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        /// The exact zero-byte mask of `value` (no borrow crosses bytes once the top bits are masked).
        @inline(__always) func zeroBytes(_ value: UInt64) -> UInt64 {
            ~(((value & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | value) & 0x8080_8080_8080_8080
        }
        return zeroBytes(word ^ 0x2D2D_2D2D_2D2D_2D2D) | zeroBytes(word ^ 0x5F5F_5F5F_5F5F_5F5F)
            | zeroBytes(word ^ 0x2E2E_2E2E_2E2E_2E2E)
    }

    /// Whether none of the first six of the eight bytes at `index` is a space with another space two
    /// bytes after it (false when fewer than eight remain).
    @inline(__always)
    static func hasNoSpacePairTwoApart(in buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 8 <= buffer.count, let base = UnsafeRawPointer(buffer.baseAddress) else { return false }
        let spaces = base.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x2020_2020_2020_2020
        // The exact zero-byte mask: the top bit of each byte that was a space, and of no other byte.
        let mask = ~(((spaces & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | spaces) & 0x8080_8080_8080_8080
        // Little-endian: byte k + 2 shifted down onto byte k; bytes 0...5 only.
        return mask & (mask >> 16) & 0x0000_8080_8080_8080 == 0
    }

    /// The top bit of each byte of `word` that is ASCII whitespace (space, tab, newline, vertical tab,
    /// form feed, carriage return), and of no other byte: exact, as no byte's arithmetic borrows from
    /// or carries into its neighbour once the top bits are masked off.
    @inline(__always)
    static func whitespaceMask(_ word: UInt64) -> UInt64 {
        let low = word & 0x7F7F_7F7F_7F7F_7F7F
        let spaces = low ^ 0x2020_2020_2020_2020
        let isSpace = ~(spaces &+ 0x7F7F_7F7F_7F7F_7F7F)
        // 0x09...0x0D: at least 9 and at most 13.
        let controls = (low &+ 0x7777_7777_7777_7777) & (0x8D8D_8D8D_8D8D_8D8D &- low)
        return (isSpace | controls) & ~word & 0x8080_8080_8080_8080
    }

    /// One bit per byte of `word` (bit k for byte k, little-endian) that continues a word for the keyword
    /// trie: an ASCII letter or digit, or any non-ASCII byte. Exact, as in `whitespaceMask`.
    @inline(__always)
    static func wordByteBits(_ word: UInt64) -> UInt64 {
        let low = word & 0x7F7F_7F7F_7F7F_7F7F
        let folded = low | 0x2020_2020_2020_2020
        // a...z after folding the case bit: at least 0x61 and at most 0x7A.
        let letters = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & (0xFAFA_FAFA_FAFA_FAFA &- folded)
        // 0...9: at least 0x30 and at most 0x39.
        let digits = (low &+ 0x5050_5050_5050_5050) & (0xB9B9_B9B9_B9B9_B9B9 &- low)
        let marks = (letters | digits | word) & 0x8080_8080_8080_8080
        // Gathers the top bit of byte k into bit k.
        return ((marks >> 7) &* 0x0102_0408_1020_4080) >> 56
    }

    /// True when every byte is below 0x80, checked eight bytes at a time.
    static func isASCII(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { isASCII($0) }
    }

    /// True when every byte is below 0x80, checked eight bytes at a time.
    static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = buffer.count
        var accumulated: UInt64 = 0
        if let base = UnsafeRawPointer(buffer.baseAddress) {
            while index + 8 <= count {
                accumulated |= base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
        }
        while index < count {
            accumulated |= UInt64(buffer[index])
            index += 1
        }
        return accumulated & 0x8080_8080_8080_8080 == 0
    }
}
