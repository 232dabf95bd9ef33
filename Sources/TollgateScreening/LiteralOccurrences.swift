/// Where literal-gated injection rules' literals occur in the views of one message, kept per view and rule.
///
/// A view rewritten in place from another (same length, its rewritten positions listed) holds its
/// base's occurrences except those a rewrite touched, plus any a rewritten byte completes. Deriving
/// them that way costs a few comparisons per rewrite, where scanning the places around a long text's
/// rewrites costs one `memchr` per literal per place, for every view.
struct LiteralOccurrences {
    private let views: [InjectionView]
    /// Every occurrence in a whole view, ascending by start, per (view, rule) asked about: a handful of
    /// entries per message (few rules have literals), so a list beats a dictionary.
    private var known: [(view: Int, rule: Int, occurrences: [Range<Int>])] = []

    init(views: [InjectionView]) {
        self.views = views
    }

    /// Every occurrence of `literals` (ASCII, compared case-insensitively) in view `viewIndex`, or nil
    /// when that view is neither whole (no base) nor rewritten in place from one that can be derived:
    /// the caller then scans the places it needs itself.
    mutating func occurrences(of literals: [[UInt8]], rule: Int, in viewIndex: Int) -> [Range<Int>]? {
        if let cached = known.first(where: { $0.view == viewIndex && $0.rule == rule }) { return cached.occurrences }
        let view = views[viewIndex]
        let found: [Range<Int>]
        if view.dirty == nil {
            found = view.bytes.withUnsafeBufferPointer { PIIGate.occurrences(of: literals, in: $0) }
        } else if let baseIndex = view.base, view.shifted == nil, views[baseIndex].bytes.count == view.bytes.count,
            let inBase = occurrences(of: literals, rule: rule, in: baseIndex)
        {
            found = view.bytes.withUnsafeBufferPointer {
                Self.derived(from: inBase, rewrittenAt: view.changes, in: $0, literals: literals)
            }
        } else {
            return nil
        }
        if known.isEmpty { known.reserveCapacity(16) }
        known.append((viewIndex, rule, found))
        return found
    }

    /// The base's occurrences untouched by a rewrite, and those through a rewritten byte of `bytes`.
    static func derived(
        from base: [Range<Int>], rewrittenAt changes: [Int], in bytes: UnsafeBufferPointer<UInt8>,
        literals: [[UInt8]]
    ) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity(base.count)
        var next = 0
        for occurrence in base {
            while next < changes.count, changes[next] < occurrence.lowerBound { next += 1 }
            if next < changes.count, changes[next] < occurrence.upperBound { continue }
            result.append(occurrence)
        }
        let kept = result.count
        // The bytes of the literals (both cases): most rewritten bytes are in none of them.
        var inLiterals = (low: UInt64(0), high: UInt64(0))
        @inline(__always) func include(_ byte: UInt8) {
            if byte < 64 { inLiterals.low |= 1 << UInt64(byte) } else { inLiterals.high |= 1 << UInt64(byte - 64) }
        }
        for literal in literals {
            for byte in literal where byte < 0x80 {
                include(byte)
                if UnicodeFolding.isASCIILetter(byte) {
                    include(byte | 0x20)
                    include(byte & ~0x20)
                }
            }
        }
        for change in changes where change < bytes.count {
            let byte = bytes[change]
            guard byte < 0x80,
                (byte < 64 ? inLiterals.low >> UInt64(byte) : inLiterals.high >> UInt64(byte - 64)) & 1 != 0
            else { continue }
            for literal in literals {
                for (offset, wanted) in literal.enumerated() where sameLetter(wanted, byte) {
                    let start = change - offset
                    guard start >= 0, start + literal.count <= bytes.count,
                        (0..<literal.count).allSatisfy({ sameLetter(literal[$0], bytes[start + $0]) })
                    else { continue }
                    result.append(start..<(start + literal.count))
                }
            }
        }
        guard result.count > kept else { return result }
        // An occurrence through two rewrites is found twice.
        result.sort { $0.lowerBound != $1.lowerBound ? $0.lowerBound < $1.lowerBound : $0.upperBound < $1.upperBound }
        var unique: [Range<Int>] = []
        unique.reserveCapacity(result.count)
        for occurrence in result where unique.last != occurrence { unique.append(occurrence) }
        return unique
    }

    /// ASCII bytes equal, letters in either case (as `PIIGate.occurrences` compares).
    @inline(__always)
    private static func sameLetter(_ wanted: UInt8, _ byte: UInt8) -> Bool {
        wanted == byte || (UnicodeFolding.isASCIILetter(wanted) && wanted | 0x20 == byte | 0x20)
    }
}
