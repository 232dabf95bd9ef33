#if canImport(Glibc)
import Glibc
#endif

/// Where in a text the digit-based and `@`-based PII patterns can possibly match, found in one pass,
/// so those patterns search a few small windows instead of every position of the text.
struct PIIGate {
    /// A run of digits joined by at most two separator characters (space . - ( ) / + x :).
    struct DigitRun {
        let start: Int
        let end: Int
        let digits: Int
        /// Dots between its digits (an IPv4 address has three).
        let dots: Int
    }

    /// Context a pattern may need before a run (a "phone:" label) and after it (an extension, a lookahead).
    static let before = 48
    static let after = 24

    let runs: [DigitRun]

    init(_ bytes: [UInt8]) {
        runs = bytes.withUnsafeBufferPointer { Self.digitRuns(in: $0) }
    }

    private static func digitRuns(in bytes: UnsafeBufferPointer<UInt8>) -> [DigitRun] {
        // Capacity is reserved at the first run, not before: most messages allocate nothing here.
        var runs: [DigitRun] = []
        var index = 0
        let count = bytes.count
        while index < count {
            // Most text has no digit for many bytes: skip it eight bytes at a time.
            if ASCII.isDigitFreeWord(in: bytes, at: index) {
                index += 8
                continue
            }
            guard Self.isDigit(bytes[index]) else {
                index += 1
                continue
            }
            let start = index
            var digits = 0
            var lastDigitEnd = index
            var cursor = index
            var dots = 0
            var dotsBeforeLastDigit = 0
            while cursor < count {
                if Self.isDigit(bytes[cursor]) {
                    digits += 1
                    cursor += 1
                    lastDigitEnd = cursor
                    dotsBeforeLastDigit = dots
                } else if Self.isSeparator(bytes[cursor]), cursor - lastDigitEnd < 2 {
                    if bytes[cursor] == 0x2E { dots += 1 }
                    cursor += 1
                } else {
                    break
                }
            }
            if runs.isEmpty { runs.reserveCapacity(16) }
            runs.append(DigitRun(start: start, end: lastDigitEnd, digits: digits, dots: dotsBeforeLastDigit))
            index = max(cursor, start + 1)
        }
        return runs
    }

    /// Starts of the runs with at least `minimumDigits` digits preceded by `leadCount` bytes of `lead`,
    /// each with the end of the window (of `windows`, built with the same limits) that holds its run:
    /// a match starting there may reach as far as that window.
    func leadStarts(
        minimumDigits: Int, lead: ByteClass, leadCount: Int, in bytes: UnsafeBufferPointer<UInt8>, windows: RunWindows
    ) -> [(start: Int, upper: Int)] {
        var result: [(start: Int, upper: Int)] = []
        var windows = windows
        var window = windows.next()
        for run in runs where run.digits >= minimumDigits && run.start >= leadCount {
            let start = run.start - leadCount
            guard (start..<run.start).allSatisfy({ lead.contains(bytes[$0]) }) else { continue }
            while let current = window, current.upperBound <= run.start { window = windows.next() }
            guard let current = window else { break }
            if result.isEmpty { result.reserveCapacity(8) }
            result.append((start, current.upperBound))
        }
        return result
    }

    /// Merged byte windows around runs with at least `minimumDigits` digits, from `before` bytes
    /// before each run to `after` past it, produced one at a time without allocating.
    func windows(
        minimumDigits: Int, minimumDots: Int = 0, count: Int, before: Int = before, after: Int = after
    ) -> RunWindows {
        RunWindows(
            runs: runs, minimumDigits: minimumDigits, minimumDots: minimumDots, count: count, before: before,
            after: after)
    }

    /// The windows of `windows(minimumDigits:count:before:after:)`, merged where they overlap or touch.
    struct RunWindows: Sequence, IteratorProtocol {
        let runs: [DigitRun]
        let minimumDigits: Int
        let minimumDots: Int
        let count: Int
        let before: Int
        let after: Int
        private var index = 0

        init(runs: [DigitRun], minimumDigits: Int, minimumDots: Int, count: Int, before: Int, after: Int) {
            self.runs = runs
            self.minimumDigits = minimumDigits
            self.minimumDots = minimumDots
            self.count = count
            self.before = before
            self.after = after
        }

        mutating func next() -> Range<Int>? {
            while index < runs.count, !qualifies(runs[index]) { index += 1 }
            guard index < runs.count else { return nil }
            let lower = Swift.max(0, runs[index].start - before)
            var upper = Swift.min(count, runs[index].end + after)
            index += 1
            while index < runs.count {
                let run = runs[index]
                if qualifies(run) {
                    guard Swift.max(0, run.start - before) <= upper else { break }
                    upper = Swift.max(upper, Swift.min(count, run.end + after))
                }
                index += 1
            }
            return lower..<upper
        }

        private func qualifies(_ run: DigitRun) -> Bool {
            run.digits >= minimumDigits && run.dots >= minimumDots
        }
    }

    /// Merged byte windows around each occurrence of `byte`.
    static func windows(
        near byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, before: Int = 80, after: Int = 260
    ) -> [Range<Int>] {
        var positions: [(Int, Int)] = []
        var offset = 0
        while let found = firstIndex(of: byte, in: bytes, from: offset) {
            if positions.isEmpty { positions.reserveCapacity(16) }
            positions.append((found, found + 1))
            offset = found + 1
        }
        return merge(positions, count: bytes.count, before: before, after: after)
    }

    /// Windows around each occurrence of `byte` that cover only the run of `run` bytes around it (at most
    /// `before` bytes before and `after` past it), plus one character on each side for lookarounds. A match
    /// made of those bytes (an email, an IPv6 address) cannot reach further, and a tight window spares
    /// PCRE2 the hundreds of start positions a fixed-size window holds. A run holding fewer than
    /// `minimumCount` of `byte` gets no window (an IPv6 address has at least two colons).
    static func windows(
        near byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, within run: ByteClass, before: Int, after: Int,
        atLeast minimumCount: Int = 1
    ) -> [Range<Int>] {
        var spans: [(Int, Int)] = []
        var offset = 0
        let count = bytes.count
        while let found = firstIndex(of: byte, in: bytes, from: offset) {
            var lower = found
            let lowest = max(0, found - before)
            while lower > lowest, run.contains(bytes[lower - 1]) { lower -= 1 }
            var upper = found + 1
            let highest = min(count, found + 1 + after)
            var occurrences = 1
            while upper < highest, run.contains(bytes[upper]) {
                if bytes[upper] == byte { occurrences += 1 }
                upper += 1
            }
            // Too few of `byte` in the run (one colon in "Subject: hi"): no match can be made of it.
            if minimumCount > 1 {
                for index in lower..<found where bytes[index] == byte { occurrences += 1 }
                if occurrences < minimumCount {
                    offset = upper
                    continue
                }
            }
            // One more character (all of its UTF-8 bytes) after the run, for a lookahead to see.
            if upper < count {
                upper += 1
                while upper < count, bytes[upper] & 0xC0 == 0x80 { upper += 1 }
            }
            if lower > 0 { lower -= 1 }
            spans.append((lower, upper))
            offset = max(found + 1, upper - 1)
        }
        return merge(spans, count: count, before: 0, after: 0)
    }

    /// The first `byte` at or after `start`, found with `memchr`.
    static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// Whether any of `literals` occurs in `bytes` (ASCII case-insensitively when `caseless`). `pairs`
    /// (the byte pairs of `bytes`) rejects most literals with a few bit tests before any search.
    static func containsAny(
        _ literals: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, caseless: Bool, pairs: BytePairs
    ) -> Bool {
        literals.contains { pairs.mayContain($0, caseless: caseless) && contains($0, in: bytes, caseless: caseless) }
    }

    /// Whether `occurrences(of: literals, in: bytes)` would find any, stopping at the first one found.
    static func containsAny(_ literals: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        literals.contains { !$0.isEmpty && contains($0, in: bytes, caseless: true) }
    }

    /// Where `literals` occur in `bytes` (ASCII case-insensitively), as ascending start..<end ranges.
    static func occurrences(of literals: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var found: [Range<Int>] = []
        appendOccurrences(of: literals, in: bytes, startingBefore: bytes.count, offset: 0, to: &found)
        return found
    }

    /// `occurrences(of:in:)` limited to those starting inside `ranges` (ascending, disjoint): only those
    /// places are read, not the whole text.
    static func occurrences(
        of literals: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, startingWithin ranges: [Range<Int>]
    ) -> [Range<Int>] {
        var longest = 0
        for literal in literals { longest = max(longest, literal.count) }
        var found: [Range<Int>] = []
        for range in ranges {
            let lower = max(0, min(range.lowerBound, bytes.count))
            let upper = max(lower, min(range.upperBound, bytes.count))
            guard lower < upper else { continue }
            // A literal starting before `upper` may end up to `longest - 1` bytes after it.
            let window = UnsafeBufferPointer(rebasing: bytes[lower..<min(bytes.count, upper + longest - 1)])
            appendOccurrences(of: literals, in: window, startingBefore: upper - lower, offset: lower, to: &found)
        }
        return found
    }

    /// Appends the occurrences in `bytes` that start before `limit`, moved by `offset`, in ascending order.
    private static func appendOccurrences(
        of literals: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, startingBefore limit: Int, offset: Int,
        to found: inout [Range<Int>]
    ) {
        let first = found.count
        for literal in literals where !literal.isEmpty {
            forEachStart(of: literal, in: bytes, caseless: true) { start in
                if start < limit { found.append((start + offset)..<(start + offset + literal.count)) }
                return true
            }
        }
        guard literals.count > 1, found.count - first > 1 else { return }
        // An insertion sort (stable, so occurrences at the same place stay in literal order): the lists
        // are short, and a slice sort would go through unspecialized generic code.
        for index in (first + 1)..<found.count {
            let occurrence = found[index]
            var slot = index
            while slot > first, found[slot - 1].lowerBound > occurrence.lowerBound {
                found[slot] = found[slot - 1]
                slot -= 1
            }
            found[slot] = occurrence
        }
    }

    /// Calls `body` with the start of each occurrence of `literal` (non-empty) until it returns false.
    /// The occurrences are found with `memchr` for one byte of the literal: the first byte that is not a
    /// letter when there is one (`sk-`, `ghp_`, `-----BEGIN ` are found by their rarer `-` or `_`
    /// instead of by every `s` or `g` of the text), else the first byte in both cases.
    private static func forEachStart(
        of literal: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, caseless: Bool, _ body: (Int) -> Bool
    ) {
        let length = literal.count
        guard length <= bytes.count else { return }
        let anchor = literal.firstIndex { !UnicodeFolding.isASCIILetter($0) } ?? 0
        let anchorByte = literal[anchor]
        for variant in FirstByteVariants(anchorByte, bothCases: caseless && UnicodeFolding.isASCIILetter(anchorByte)) {
            var offset = anchor
            while let found = firstIndex(of: variant, in: bytes, from: offset) {
                offset = found + 1
                let start = found - anchor
                if start + length > bytes.count { break }
                var matches = true
                for index in 0..<length where index != anchor {
                    let byte = bytes[start + index]
                    let wanted = literal[index]
                    if byte == wanted { continue }
                    if caseless, UnicodeFolding.isASCIILetter(wanted), byte | 0x20 == wanted | 0x20 { continue }
                    matches = false
                    break
                }
                if matches, !body(start) { return }
            }
        }
    }

    private static func contains(_ literal: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, caseless: Bool) -> Bool {
        guard !literal.isEmpty else { return true }
        var found = false
        forEachStart(of: literal, in: bytes, caseless: caseless) { _ in
            found = true
            return false
        }
        return found
    }

    private static func merge<S: Sequence>(_ spans: S, count: Int, before: Int = before, after: Int = after) -> [Range<Int>]
    where S.Element == (Int, Int) {
        var windows: [Range<Int>] = []
        for (start, end) in spans {
            let lower = max(0, start - before)
            let upper = min(count, end + after)
            if let last = windows.last, lower <= last.upperBound {
                windows[windows.count - 1] = last.lowerBound..<max(last.upperBound, upper)
            } else {
                if windows.isEmpty { windows.reserveCapacity(8) }
                windows.append(lower..<upper)
            }
        }
        return windows
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x2E, 0x2D, 0x28, 0x29, 0x2F, 0x2B, 0x78, 0x58, 0x3A: return true
        default: return false
        }
    }
}

/// The byte values a literal's first byte is searched for: both cases of a letter (lower first), or the
/// byte itself. A sequence, not an array, because it is built per literal on every screen.
struct FirstByteVariants: Sequence, IteratorProtocol {
    private let first: UInt8
    private let second: UInt8
    private let count: Int
    private var index = 0

    init(_ byte: UInt8, bothCases: Bool) {
        first = bothCases ? byte | 0x20 : byte
        second = byte & ~0x20
        count = bothCases ? 2 : 1
    }

    mutating func next() -> UInt8? {
        guard index < count else { return nil }
        index += 1
        return index == 1 ? first : second
    }
}

/// The set of adjacent byte pairs in a text, built in one pass: a literal none of whose pairs is missing
/// may occur; one with a missing pair cannot. Pairs are hashed into a bit set sized to the text (4,096
/// bits for a short message, up to one bit per possible pair), so a short text does not pay for
/// clearing 8 KB; a collision only lets a literal through to the real search.
struct BytePairs {
    private var bits: [UInt64]
    /// Hash shift: a pair (16 bits) keeps its top `16 - shift` bits after mixing.
    private let shift: UInt32

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        // About eight bits per byte of text keeps the set sparse enough to reject most literals.
        var logBits = 12
        while logBits < 16, 1 << logBits < bytes.count * 8 { logBits += 1 }
        shift = UInt32(16 - logBits)
        bits = [UInt64](repeating: 0, count: 1 << (logBits - 6))
        guard bytes.count >= 2 else { return }
        let shift = shift
        bits.withUnsafeMutableBufferPointer { bits in
            var previous = UInt32(bytes[0])
            for index in 1..<bytes.count {
                let current = UInt32(bytes[index])
                let slot = Self.slot(previous << 8 | current, shift: shift)
                bits[slot >> 6] |= 1 << UInt64(slot & 63)
                previous = current
            }
        }
    }

    /// Where a pair lands: the identity at full size, else a multiplicative hash's top bits.
    @inline(__always)
    private static func slot(_ pair: UInt32, shift: UInt32) -> Int {
        shift == 0 ? Int(pair) : Int(((pair &* 0x9E37_79B1) >> 16) & 0xFFFF) >> Int(shift)
    }

    private func contains(_ first: UInt8, _ second: UInt8) -> Bool {
        let slot = Self.slot(UInt32(first) << 8 | UInt32(second), shift: shift)
        return bits[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    /// False only when `literal` cannot occur (ASCII letters in either case when `caseless`).
    func mayContain(_ literal: [UInt8], caseless: Bool) -> Bool {
        guard literal.count >= 2 else { return true }
        for index in 1..<literal.count {
            let first = literal[index - 1]
            let second = literal[index]
            if !caseless {
                if !contains(first, second) { return false }
                continue
            }
            // Both cases of a letter; a non-letter twice (no arrays: this runs per pair of every literal).
            let firstLetter = UnicodeFolding.isASCIILetter(first)
            let secondLetter = UnicodeFolding.isASCIILetter(second)
            let lowerFirst = firstLetter ? first | 0x20 : first
            let upperFirst = firstLetter ? first & ~0x20 : first
            let lowerSecond = secondLetter ? second | 0x20 : second
            let upperSecond = secondLetter ? second & ~0x20 : second
            if !contains(lowerFirst, lowerSecond), !contains(lowerFirst, upperSecond), !contains(upperFirst, lowerSecond),
                !contains(upperFirst, upperSecond)
            {
                return false
            }
        }
        return true
    }
}
