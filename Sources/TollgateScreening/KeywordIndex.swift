/// A trie of the rules' keywords (word prefixes, case-insensitive) used to decide which injection rules
/// can match a message at all, and where. Walking it costs a few nanoseconds per word, against several
/// microseconds per kilobyte for a PCRE2 scan, so most rules never run on ordinary text, and those that
/// do only search windows around their keywords.
///
/// A keyword ending in `$` matches only a whole word (the next byte is not an ASCII letter or digit):
/// `in$` fires on "in" but not on "information". Short common words (`the`, `in`, `you`, `do`) as plain
/// prefixes would start an anchored PCRE2 attempt at almost every word of ordinary text.
struct KeywordIndex: Sendable {
    /// How far before and after a keyword a rule's match may extend.
    static let windowBefore = 192
    static let windowAfter = 448
    /// Beyond this many keyword hits for one windowed rule, search from the first hit to the end instead.
    static let maximumWindows = 24
    /// Beyond this many hits for one anchored rule, search the whole view instead.
    static let maximumHits = 1 << 20

    /// Symbols bytes map to: 26 letters, 10 digits, one for every non-ASCII byte.
    private static let letters = 37
    /// The trie's extra symbol for "the word ends here" (`$` keywords).
    private static let wordEnd = 37
    private static let alphabet = 38
    private var children: [Int32]
    private var terminals: [[Int32]]
    /// `terminals` flattened: the rules ending at node n are `terminalRules[terminalStart[n]..<terminalStart[n + 1]]`.
    private var terminalStart: [Int32] = []
    private var terminalRules: [Int32] = []
    /// Whether any keyword starts with symbol pair (a, b) at `a * (letters + 1) + b`, `b == wordEnd`
    /// standing for "the word ends here": most positions of the letters-only view are rejected by this
    /// one lookup instead of a trie walk.
    private var startsWithPair: [Bool] = []

    /// The trie symbols of a keyword (`$` at the end becomes `wordEnd`); nil for a character outside
    /// the alphabet, which ends the keyword early as before.
    private static func keywordSymbols(_ keyword: String) -> [Int] {
        var result: [Int] = []
        let bytes = Array(keyword.utf8)
        for (offset, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "$"), offset == bytes.count - 1, offset > 0 {
                result.append(wordEnd)
                break
            }
            guard let symbol = symbol(byte) else { break }
            result.append(symbol)
        }
        return result
    }

    init(keywordsByRule: [[String]]) {
        children = [Int32](repeating: -1, count: Self.alphabet)
        terminals = [[]]
        for (rule, keywords) in keywordsByRule.enumerated() {
            for keyword in keywords {
                var node = 0
                for symbol in Self.keywordSymbols(keyword) {
                    let slot = node * Self.alphabet + symbol
                    if children[slot] < 0 {
                        children[slot] = Int32(terminals.count)
                        terminals.append([])
                        children.append(contentsOf: repeatElement(-1, count: Self.alphabet))
                    }
                    node = Int(children[slot])
                }
                if node != 0, !terminals[node].contains(Int32(rule)) { terminals[node].append(Int32(rule)) }
            }
        }
        startsWithPair = [Bool](repeating: false, count: Self.letters * (Self.letters + 1))
        for keywords in keywordsByRule {
            for keyword in keywords {
                let symbols = Self.keywordSymbols(keyword)
                guard let first = symbols.first, first < Self.letters else { continue }
                if symbols.count >= 2 {
                    // A whole one-symbol word ("2$") pairs with the word end (`wordEnd == letters`), but
                    // also with a non-ASCII byte, which counts as a word end too (see `hits`).
                    startsWithPair[first * (Self.letters + 1) + symbols[1]] = true
                    if symbols[1] == Self.wordEnd { startsWithPair[first * (Self.letters + 1) + 36] = true }
                } else {
                    for second in 0...Self.letters { startsWithPair[first * (Self.letters + 1) + second] = true }
                }
            }
        }
        for rules in terminals {
            terminalStart.append(Int32(terminalRules.count))
            terminalRules.append(contentsOf: rules)
        }
        terminalStart.append(Int32(terminalRules.count))
    }

    /// Trie symbol of each byte: letters case-folded, digits, one symbol for all non-ASCII bytes, -1 for
    /// bytes that end a word.
    private static let symbols: [Int8] = (0...255).map { value -> Int8 in
        switch value {
        case 0x61...0x7A: return Int8(value - 0x61)
        case 0x41...0x5A: return Int8(value - 0x41)
        case 0x30...0x39: return Int8(26 + value - 0x30)
        case 0x80...0xFF: return 36
        default: return -1
        }
    }

    @inline(__always)
    private static func symbol(_ byte: UInt8) -> Int? {
        let symbol = symbols[Int(byte)]
        return symbol < 0 ? nil : Int(symbol)
    }

    /// Positions where each rule's keywords occur: at word starts (`wordStartsOnly`, for the text view)
    /// or anywhere (for the letters-only compact view).
    func hits(in bytes: [UInt8], ruleCount: Int, wordStartsOnly: Bool, within ranges: [Range<Int>]? = nil) -> KeywordHits {
        var hits = KeywordHits(ruleCount: ruleCount)
        Self.symbols.withUnsafeBufferPointer { symbols in
            children.withUnsafeBufferPointer { children in
                terminalStart.withUnsafeBufferPointer { terminalStart in
                    terminalRules.withUnsafeBufferPointer { terminalRules in
                        startsWithPair.withUnsafeBufferPointer { pairs in
                        bytes.withUnsafeBufferPointer { buffer in
                            let count = buffer.count
                            for range in ranges ?? [0..<count] {
                            let lower = max(0, min(range.lowerBound, count))
                            let upper = max(lower, min(range.upperBound, count))
                            var previousIsWord = lower > 0 && symbols[Int(buffer[lower - 1])] >= 0
                            for position in lower..<upper {
                                let first = Int(symbols[Int(buffer[position])])
                                let isWord = first >= 0
                                defer { previousIsWord = isWord }
                                guard isWord, !(wordStartsOnly && previousIsWord) else { continue }
                                let next = position + 1 < count ? Int(symbols[Int(buffer[position + 1])]) : -1
                                guard pairs[first * (Self.letters + 1) + (next < 0 ? Self.wordEnd : next)] else {
                                    continue
                                }
                                var node = Int(children[first])
                                var cursor = position + 1
                                while node > 0 {
                                    var slot = Int(terminalStart[node])
                                    var end = Int(terminalStart[node + 1])
                                    while slot < end {
                                        hits.add(rule: Int(terminalRules[slot]), position: position)
                                        slot += 1
                                    }
                                    let symbol = cursor < count ? Int(symbols[Int(buffer[cursor])]) : -1
                                    if symbol < 0 || symbol == 36 {
                                        // The word ends here for whole-word keywords: a non-ASCII
                                        // character counts too, as PCRE2's `\b` may see punctuation there.
                                        let whole = Int(children[node * Self.alphabet + Self.wordEnd])
                                        if whole > 0 {
                                            slot = Int(terminalStart[whole])
                                            end = Int(terminalStart[whole + 1])
                                            while slot < end {
                                                hits.add(rule: Int(terminalRules[slot]), position: position)
                                                slot += 1
                                            }
                                        }
                                        if symbol < 0 { break }
                                    }
                                    node = Int(children[node * Self.alphabet + symbol])
                                    cursor += 1
                                }
                            }
                            }
                        }
                        }
                    }
                }
            }
        }
        return hits
    }
}

/// Keyword positions per rule, stored as linked lists in two flat arrays (no array per rule).
struct KeywordHits {
    private var head: [Int32]
    private var last: [Int32]
    private(set) var counts: [Int32]
    private var positions: [Int32] = []
    private var next: [Int32] = []

    init(ruleCount: Int) {
        head = [Int32](repeating: -1, count: ruleCount)
        last = [Int32](repeating: -1, count: ruleCount)
        counts = [Int32](repeating: 0, count: ruleCount)
    }

    @inline(__always)
    mutating func add(rule: Int, position: Int) {
        // Several keywords of one rule can end at the same word start ("ignor", "ignore").
        if last[rule] >= 0, positions[Int(last[rule])] == Int32(position) { return }
        guard counts[rule] < Int32(KeywordIndex.maximumHits) else { return }
        positions.append(Int32(position))
        next.append(-1)
        let entry = Int32(positions.count - 1)
        if last[rule] >= 0 { next[Int(last[rule])] = entry } else { head[rule] = entry }
        last[rule] = entry
        counts[rule] += 1
    }

    /// The positions for `rule`, ascending.
    func positions(of rule: Int) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(Int(counts[rule]))
        var entry = head[rule]
        while entry >= 0 {
            result.append(Int(positions[Int(entry)]))
            entry = next[Int(entry)]
        }
        return result
    }
}
