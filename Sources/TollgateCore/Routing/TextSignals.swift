/// Raw counts the complexity scorer reads from one message, gathered in a single pass over its UTF-8 bytes.
///
/// No regex, no Foundation, no allocation: words are packed into a `UInt64` (first 8 bytes, lowercased) and
/// compared against a small keyword table bucketed by first letter. Text inside fenced code blocks only
/// counts as code, so identifiers and comments in pasted code do not look like reasoning or math.
struct TextSignals: Sendable, Equatable {
    var questions = 0
    var listItems = 0
    var codeFences = 0
    var codeSignals = 0
    var mathSignals = 0
    var reasoningHits = 0

    init() {}

    init(scanning text: String) {
        var text = text
        self = text.withUTF8 { TextSignals(bytes: $0) }
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.init()
        let table = KeywordTable.shared
        let phrases = Phrases.shared
        let n = bytes.count
        var i = 0
        var atLineStart = true
        var inFence = false
        var lastInLine: UInt8 = 0  // last non-blank byte of the current line
        var lastByte: UInt8 = 0
        var prev1: UInt8 = 0  // last non-blank byte before the current one
        var prev2: UInt8 = 0  // the one before that
        var inlineTicks = 0
        var word: UInt64 = 0
        var wordLength = 0
        var words = RecentWords()

        @inline(__always) func byte(_ index: Int) -> UInt8 { index < n ? bytes[index] : 0 }

        while i < n {
            let b = bytes[i]

            if atLineStart {
                if b == 0x20 || b == 0x09 || b == 0x0D { i += 1; continue }
                if b == 0x0A { i += 1; continue }
                atLineStart = false
                // Fences: ``` or ~~~ opening a line, with an optional language tag after them.
                if (b == 0x60 || b == 0x7E) && byte(i + 1) == b && byte(i + 2) == b {
                    if !inFence { codeFences += 1 }
                    inFence.toggle()
                    while i < n && bytes[i] != 0x0A { i += 1 }
                    atLineStart = true
                    i += 1
                    continue
                }
                if !inFence {
                    if (b == 0x2D || b == 0x2A || b == 0x2B) && byte(i + 1) == 0x20 {
                        listItems += 1  // "- ", "* ", "+ "
                    } else if b == 0xE2 && byte(i + 1) == 0x80 && byte(i + 2) == 0xA2 {
                        listItems += 1  // "•"
                    } else if isDigit(b) {
                        var j = i + 1
                        while j < n && j - i < 3 && isDigit(bytes[j]) { j += 1 }
                        if (byte(j) == 0x2E || byte(j) == 0x29) && byte(j + 1) == 0x20 { listItems += 1 }  // "1. ", "2) "
                    } else if b == 0x23 && isLowerLetter(byte(i + 1)) {
                        codeSignals += 1  // #include, #define, #!
                    }
                }
            }

            if inFence {
                if b == 0x0A { atLineStart = true }
                i += 1
                continue
            }

            // Fast path: word bytes, the bulk of any prompt.
            if isWordByte(b) {
                if wordLength < 8 { word |= UInt64(isUpperLetter(b) ? b | 0x20 : b) << (8 * UInt64(wordLength)) }
                wordLength += 1
                // Arithmetic: an operand, one of + * = ^ < >, and another operand, at least one of them a digit
                // ("2 + 3", "x = 5", "x^2"). Hyphens and slashes are left out: they join words and dates.
                if isArithmetic(prev1) && (isWordByte(prev2) || prev2 == 0x29) && (isDigit(b) || isDigit(prev2) || prev1 == 0x5E) {
                    mathSignals += 1
                    prev2 = 0  // count each operator once, not once per character of the operand
                    prev1 = b  // but let this operand start the next expression: "2 = 11" after "3x + 2"
                } else {
                    if !isWordByte(prev1) { prev2 = prev1 }
                    prev1 = b
                }
                lastInLine = b
                lastByte = b
                i += 1
                continue
            }
            if wordLength > 0 {
                endWord(word, length: wordLength, table: table, phrases: phrases, words: &words)
                word = 0
                wordLength = 0
            }
            if b == 0x20 || b == 0x09 {
                lastByte = b
                i += 1
                continue
            }
            do {
                switch b {
                case 0x0A:  // newline
                    if lastInLine == 0x3B || lastInLine == 0x7B || lastInLine == 0x7D { codeSignals += 1 }  // ; { }
                    lastInLine = 0
                    atLineStart = true
                case 0x3F:  // ?
                    if lastByte != 0x3F { questions += 1 }
                case 0x60:  // `
                    var run = 1
                    while byte(i + run) == 0x60 { run += 1 }
                    if run >= 3 { codeFences += 1 } else { inlineTicks += run }
                    i += run - 1
                case 0x5C:  // \frac, \sum: a LaTeX command of two letters or more
                    if isLetter(byte(i + 1)) && isLetter(byte(i + 2)) { mathSignals += 1 }
                case 0x24:  // $x, $\alpha
                    let next = byte(i + 1)
                    if isLetter(next) || next == 0x5C { mathSignals += 1 }
                case 0xE2:  // U+2200–U+22FF mathematical operators: ∑ ∫ √ ≤ ≠ ∞ ∈ …
                    let next = byte(i + 1)
                    if next >= 0x88 && next <= 0x8B { mathSignals += 1 }
                case 0xC3:  // × ÷
                    let next = byte(i + 1)
                    if next == 0x97 || next == 0xB7 { mathSignals += 1 }
                case 0xC2:  // ² ³ ¹
                    let next = byte(i + 1)
                    if next == 0xB2 || next == 0xB3 || next == 0xB9 { mathSignals += 1 }
                case 0xCF:  // π
                    if byte(i + 1) == 0x80 { mathSignals += 1 }
                default:
                    break
                }
                // Two-byte code operators: => -> :: && || != ==
                switch (lastByte, b) {
                case (0x3D, 0x3E), (0x2D, 0x3E), (0x3A, 0x3A), (0x26, 0x26), (0x7C, 0x7C), (0x21, 0x3D), (0x3D, 0x3D):
                    codeSignals += 1
                default:
                    break
                }
            }
            if b != 0x0A && b != 0x0D {
                prev2 = prev1
                prev1 = b
                lastInLine = b
            }
            lastByte = b
            i += 1
        }
        if wordLength > 0 { endWord(word, length: wordLength, table: table, phrases: phrases, words: &words) }
        if !inFence && (lastInLine == 0x3B || lastInLine == 0x7B || lastInLine == 0x7D) { codeSignals += 1 }
        codeSignals += inlineTicks / 2
    }

    private mutating func endWord(
        _ word: UInt64, length: Int, table: KeywordTable, phrases: Phrases, words: inout RecentWords
    ) {
        switch table.kind(of: word, length: length) {
        case .reasoning?: reasoningHits += 1
        case .math?: mathSignals += 1
        case .code?: codeSignals += 1
        case nil: break
        }
        let key = length <= 8 ? word : 0
        if words.completesPhrase(with: key, phrases: phrases) { reasoningHits += 1 }
        words.push(key)
    }
}

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) private func isLowerLetter(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
@inline(__always) private func isUpperLetter(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
@inline(__always) private func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
@inline(__always) private func isAlphanumeric(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) }
@inline(__always) private func isWordByte(_ b: UInt8) -> Bool { isAlphanumeric(b) || b == 0x5F }
@inline(__always) private func isArithmetic(_ b: UInt8) -> Bool {
    b == 0x2B || b == 0x2A || b == 0x3D || b == 0x5E || b == 0x3C || b == 0x3E
}

/// The last two words (packed, 0 when longer than 8 bytes), for the few multi-word reasoning phrases.
private struct RecentWords {
    var previous: UInt64 = 0
    var beforePrevious: UInt64 = 0

    mutating func push(_ word: UInt64) {
        beforePrevious = previous
        previous = word
    }

    /// "explain why/how", "step by step", "trade off(s)", "pros and cons", "think through", "in depth",
    /// "root cause", "first principles" ("principl" is the 8-byte prefix).
    func completesPhrase(with word: UInt64, phrases p: Phrases) -> Bool {
        switch word {
        case p.why, p.how: return previous == p.explain
        case p.step: return previous == p.by && beforePrevious == p.step
        case p.off, p.offs: return previous == p.trade
        case p.cons: return previous == p.and && beforePrevious == p.pros
        case p.through: return previous == p.think
        case p.depth: return previous == p.in
        case p.cause: return previous == p.root
        case p.principl: return previous == p.first
        default: return false
        }
    }
}

private struct Phrases: Sendable {
    static let shared = Phrases()
    let explain = pack("explain"), why = pack("why"), how = pack("how"), step = pack("step"), by = pack("by")
    let trade = pack("trade"), off = pack("off"), offs = pack("offs"), pros = pack("pros"), and = pack("and")
    let cons = pack("cons"), think = pack("think"), through = pack("through"), `in` = pack("in")
    let depth = pack("depth"), root = pack("root"), cause = pack("cause"), first = pack("first")
    let principl = pack("principl")
}

/// Packs up to 8 lowercase ASCII bytes little-endian, the way the scanner packs words.
func pack(_ text: String) -> UInt64 {
    var value: UInt64 = 0
    for (index, byte) in text.utf8.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
    return value
}
