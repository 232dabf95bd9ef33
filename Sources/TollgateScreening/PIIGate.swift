/// Where in a text the digit-based and `@`-based PII patterns can possibly match, found in one pass,
/// so those patterns search a few small windows instead of every position of the text.
struct PIIGate {
    /// A run of digits joined by at most two separator characters (space . - ( ) / + x :).
    struct DigitRun {
        let start: Int
        let end: Int
        let digits: Int
    }

    /// Context a pattern may need before a run (a "phone:" label) and after it (an extension, a lookahead).
    static let before = 48
    static let after = 24

    let runs: [DigitRun]

    init(_ bytes: [UInt8]) {
        var runs: [DigitRun] = []
        var index = 0
        let count = bytes.count
        while index < count {
            guard Self.isDigit(bytes[index]) else {
                index += 1
                continue
            }
            let start = index
            var digits = 0
            var lastDigitEnd = index
            var cursor = index
            while cursor < count {
                if Self.isDigit(bytes[cursor]) {
                    digits += 1
                    cursor += 1
                    lastDigitEnd = cursor
                } else if Self.isSeparator(bytes[cursor]), cursor - lastDigitEnd < 2 {
                    cursor += 1
                } else {
                    break
                }
            }
            runs.append(DigitRun(start: start, end: lastDigitEnd, digits: digits))
            index = max(cursor, start + 1)
        }
        self.runs = runs
    }

    /// Merged byte windows around runs with at least `minimumDigits` digits.
    func windows(minimumDigits: Int, count: Int) -> [Range<Int>] {
        Self.merge(runs.lazy.filter { $0.digits >= minimumDigits }.map { ($0.start, $0.end) }, count: count)
    }

    /// Merged byte windows around each occurrence of `byte`.
    static func windows(near byte: UInt8, in bytes: [UInt8]) -> [Range<Int>] {
        merge(bytes.indices.lazy.filter { bytes[$0] == byte }.map { ($0, $0 + 1) }, count: bytes.count, before: 80, after: 260)
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
