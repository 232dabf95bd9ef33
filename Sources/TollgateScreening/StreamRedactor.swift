/// Redacts PII in a stream of text deltas (SSE chunks) while delaying output by at most `window`
/// code points, so an entity split across chunks (`bob@exa` + `mple.com`) is still caught.
///
/// Each `feed` re-screens only the held-back tail plus the new delta. Text is released up to a cut
/// point that is at least `minimumHold` code points from the end (no entity shorter than that can
/// straddle it unseen) and preferably at a word break outside digit runs; text older than `window`
/// is always released, so latency stays bounded even for a stream without spaces. A value type used
/// by one stream task; the shared `RedactionSession` carries numbering and originals.
public struct StreamRedactor: Sendable {
    public let engine: ScreeningEngine
    public let types: Set<PIIType>
    public let session: RedactionSession
    /// The most code points ever held back.
    public let window: Int
    /// Held-back tail: entities up to this long cannot be split by a release.
    public let minimumHold: Int
    private var pending: [Unicode.Scalar] = []

    public init(
        engine: ScreeningEngine, types: Set<PIIType>, session: RedactionSession, window: Int = 128,
        minimumHold: Int = 64
    ) {
        self.engine = engine
        self.types = types
        self.session = session
        self.window = max(window, 1)
        self.minimumHold = min(max(minimumHold, 0), self.window)
    }

    /// Adds a delta; returns the redacted text that can be sent now (possibly empty).
    public mutating func feed(_ delta: String) -> String {
        pending.append(contentsOf: delta.unicodeScalars)
        guard pending.count > minimumHold else { return "" }
        let text = String(String.UnicodeScalarView(pending))
        let findings = engine.findPII(text, types: types)
        let latest = pending.count - minimumHold
        let earliest = max(0, pending.count - window)
        var cut = Self.breakPoint(in: pending, from: earliest, to: latest) ?? earliest
        // Never cut through an entity: release it whole (it is complete enough to be recognised),
        // or hold it back when it starts after the forced-release point.
        for finding in findings where finding.start < cut && cut < finding.end {
            cut = finding.start >= earliest ? finding.start : finding.end
        }
        guard cut > 0 else { return "" }
        return release(upTo: cut, findings: findings)
    }

    /// Flushes whatever is still held back, redacted.
    public mutating func finish() -> String {
        guard !pending.isEmpty else { return "" }
        let text = String(String.UnicodeScalarView(pending))
        let findings = engine.findPII(text, types: types)
        return release(upTo: pending.count, findings: findings)
    }

    private mutating func release(upTo cut: Int, findings: [PIIFinding]) -> String {
        var output = ""
        var cursor = 0
        for finding in findings where finding.end <= cut {
            output.unicodeScalars.append(contentsOf: pending[cursor..<finding.start])
            let value = String(String.UnicodeScalarView(pending[finding.start..<finding.end]))
            output += session.placeholder(for: value, type: finding.type)
            cursor = finding.end
        }
        output.unicodeScalars.append(contentsOf: pending[cursor..<cut])
        pending.removeFirst(cut)
        return output
    }

    /// The last position in `lower...upper` just after whitespace that does not sit between digits
    /// (phone and card numbers contain spaces; words around an email do not).
    static func breakPoint(in scalars: [Unicode.Scalar], from lower: Int, to upper: Int) -> Int? {
        guard upper >= lower, upper > 0 else { return nil }
        var position = min(upper, scalars.count)
        while position > max(lower, 0) {
            let before = scalars[position - 1]
            if before.properties.isWhitespace {
                let after = position < scalars.count ? scalars[position] : " "
                let beforeSpace = position >= 2 ? scalars[position - 2] : " "
                if !Self.isNumberPart(after) && !Self.isNumberPart(beforeSpace) { return position }
            }
            position -= 1
        }
        return nil
    }

    private static func isNumberPart(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar) || scalar == "+" || scalar == "(" || scalar == ")" || scalar == "-"
    }
}
