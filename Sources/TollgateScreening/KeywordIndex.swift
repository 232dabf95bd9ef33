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
    static let windowBefore = 288
    static let windowAfter = 448
    /// Beyond this many keyword hits for one windowed rule, search from the first hit to the end instead.
    /// Merged windows never cover more than the view, and one PCRE2 call per window costs far less than
    /// scanning a long message from its first hit (a rule keyed on "my" has hundreds of hits in 100 KB).
    static let maximumWindows = 1 << 16
    /// Beyond this many hits for one anchored rule, search the whole view instead.
    static let maximumHits = 1 << 20

    /// Symbols bytes map to: 26 letters, 10 digits, one for every non-ASCII byte.
    private static let letters = 37
    /// The trie's extra symbol for "the word ends here" (`$` keywords).
    private static let wordEnd = 37
    private static let alphabet = 38
    /// Child links, `alphabet` per node: -1 for none, else `child << 1 | 1 if the child ends keywords`.
    /// The flag spares a walk the terminal lookup at the many nodes that only lead on.
    private var children: [Int32]
    private var terminals: [[Int32]]
    /// `terminals` flattened: the rules ending at node n are `terminalRules[terminalStart[n]..<terminalStart[n + 1]]`.
    private var terminalStart: [Int32] = []
    private var terminalRules: [Int32] = []
    /// Bit set: whether any keyword can start with symbols (a, b, c), at `(a * alphabet + b) * alphabet + c`,
    /// `wordEnd` standing for "the word ends here" (then c is `wordEnd` too). Most positions, even of the
    /// letters-only view, are rejected by this one lookup instead of a trie walk.
    private var startsWithTriple: [UInt64] = []
    /// Bit set over raw byte pairs `(b0 << 8) | b1`: whether a keyword can start with those two bytes'
    /// symbols. The letters-only view starts a walk at every byte, and this one lookup (no symbol
    /// translation) rejects nearly all of them.
    private var startsWithBytePair: [UInt64] = []
    /// The most symbols in one keyword (its `$` included): how far a walk reads past its start.
    private(set) var longestKeyword = 3

    private mutating func allowTriple(_ a: Int, _ b: Int, _ c: Int) {
        let bit = (a * Self.alphabet + b) * Self.alphabet + c
        startsWithTriple[bit >> 6] |= 1 << UInt64(bit & 63)
    }

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
                let symbols = Self.keywordSymbols(keyword)
                longestKeyword = max(longestKeyword, symbols.count + 1)
                for symbol in symbols {
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
        startsWithTriple = [UInt64](repeating: 0, count: (Self.letters * Self.alphabet * Self.alphabet + 63) / 64)
        for keywords in keywordsByRule {
            for keyword in keywords {
                let symbols = Self.keywordSymbols(keyword)
                guard let first = symbols.first, first < Self.letters else { continue }
                // A non-ASCII byte (symbol 36) also ends a whole word (see `hits`), so a `wordEnd` in the
                // keyword allows 36 in its place, followed by anything.
                if symbols.count == 1 {
                    for second in 0..<Self.alphabet { for third in 0..<Self.alphabet { allowTriple(first, second, third) } }
                } else if symbols[1] == Self.wordEnd {
                    allowTriple(first, Self.wordEnd, Self.wordEnd)
                    for third in 0..<Self.alphabet { allowTriple(first, 36, third) }
                } else if symbols.count == 2 {
                    for third in 0..<Self.alphabet { allowTriple(first, symbols[1], third) }
                } else {
                    allowTriple(first, symbols[1], symbols[2])
                    if symbols[2] == Self.wordEnd { allowTriple(first, symbols[1], 36) }
                }
            }
        }
        // Symbol pairs that begin some allowed triple, then the raw byte pairs `(b0 << 8) | b1` mapping
        // to them (a byte that ends a word reads as `wordEnd` in second place).
        var symbolPairs = [Bool](repeating: false, count: Self.letters * Self.alphabet)
        for a in 0..<Self.letters {
            for b in 0..<Self.alphabet {
                symbolPairs[a * Self.alphabet + b] = (0..<Self.alphabet).contains { c in
                    let bit = (a * Self.alphabet + b) * Self.alphabet + c
                    return startsWithTriple[bit >> 6] & (1 << UInt64(bit & 63)) != 0
                }
            }
        }
        startsWithBytePair = [UInt64](repeating: 0, count: 65536 / 64)
        for first in 0..<256 where Self.symbols[first] >= 0 {
            let a = Int(Self.symbols[first])
            for second in 0..<256 {
                let symbol = Int(Self.symbols[second])
                guard symbolPairs[a * Self.alphabet + (symbol < 0 ? Self.wordEnd : symbol)] else { continue }
                let pair = first << 8 | second
                startsWithBytePair[pair >> 6] |= 1 << UInt64(pair & 63)
            }
        }
        for rules in terminals {
            terminalStart.append(Int32(terminalRules.count))
            terminalRules.append(contentsOf: rules)
        }
        terminalStart.append(Int32(terminalRules.count))
        for slot in children.indices where children[slot] > 0 {
            let child = children[slot]
            children[slot] = child << 1 | (terminals[Int(child)].isEmpty ? 0 : 1)
        }
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
    ///
    /// `base`: the hits of a view of the same length that `bytes` differs from only at `changes` (a
    /// derived view: leetspeak or separators rewritten in place). A walk from position p reads bytes
    /// p - 1 through p + `longestKeyword`, so away from the changes the hits are the base's and only the
    /// few bytes around each change are walked again.
    ///
    /// `map`: instead, `bytes` is `base`'s view with bytes removed or inserted (`ViewOffsetMap`); the
    /// base's hits are moved to their derived positions, and only the bytes around `map.touched` are
    /// walked again. `base` must then hold every hit of its view (it was walked whole).
    ///
    /// The pairs are collected in `collector` (emptied first): the views of one message share one
    /// buffer instead of allocating their own.
    func hits(
        in bytes: [UInt8], wordStartsOnly: Bool, within ranges: [Range<Int>]?, base: KeywordHits?,
        changes: [Int], map: ViewOffsetMap?, collector hits: inout HitCollector
    ) -> KeywordHits {
        hits.reset()
        var walkRanges = ranges ?? [0..<bytes.count]
        var reused: [UInt64] = []
        if let base, let map {
            // A walk from q reads q - 1 through q + longestKeyword: one that reads no touched byte
            // reads the same bytes as the base's walk from the mapped position.
            let near = InjectionNormalizer.merged(map.touched.lazy.map { ($0 - longestKeyword - 1)..<($0 + 2) })
            let walk = Self.intersection(walkRanges, near)
            reused = base.pairs(mappedBy: map, within: walkRanges, outside: walk)
            walkRanges = walk
        } else if let base, wordStartsOnly {
            let near = InjectionNormalizer.merged(changes.lazy.map { ($0 - longestKeyword - 1)..<($0 + 2) })
            let walk = Self.intersection(walkRanges, near)
            reused = base.pairs(within: walkRanges, outside: walk)
            walkRanges = walk
        }
        Self.symbols.withUnsafeBufferPointer { symbols in
            children.withUnsafeBufferPointer { children in
                terminalStart.withUnsafeBufferPointer { terminalStart in
                    terminalRules.withUnsafeBufferPointer { terminalRules in
                        startsWithTriple.withUnsafeBufferPointer { triples in
                            startsWithBytePair.withUnsafeBufferPointer { pairs in
                                bytes.withUnsafeBufferPointer { buffer in
                                    let tables = Tables(
                                        symbols: symbols, children: children, terminalStart: terminalStart,
                                        terminalRules: terminalRules, triples: triples, pairs: pairs)
                                    for range in walkRanges {
                                        Self.walk(buffer, range, tables, wordStartsOnly: wordStartsOnly, into: &hits)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return hits.finish(merging: reused)
    }

    /// The trie's tables as buffers, for the walk.
    private struct Tables {
        let symbols: UnsafeBufferPointer<Int8>
        let children: UnsafeBufferPointer<Int32>
        let terminalStart: UnsafeBufferPointer<Int32>
        let terminalRules: UnsafeBufferPointer<Int32>
        let triples: UnsafeBufferPointer<UInt64>
        let pairs: UnsafeBufferPointer<UInt64>
    }

    /// Walks the trie from every (word-start) position of `range`, recording the rules whose keywords
    /// start there. Its own function, so the hot loop has the registers to itself.
    private static func walk(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ tables: Tables, wordStartsOnly: Bool,
        into hits: inout HitCollector
    ) {
        let count = buffer.count
        let lower = max(0, min(range.lowerBound, count))
        let upper = max(lower, min(range.upperBound, count))
        if wordStartsOnly {
            walkWordStarts(buffer, lower..<upper, tables, into: &hits)
            return
        }
        let symbols = tables.symbols
        let pairs = tables.pairs
        /// The symbol at `offset`, -1 past the end.
        @inline(__always) func symbol(at offset: Int) -> Int {
            offset < count ? Int(symbols[Int(buffer[offset])]) : -1
        }
        // Every position is a start here; the raw byte pair rejects nearly all of them (past the end
        // reads as a space, which ends a word like the end of the text).
        var next = lower < count ? Int(buffer[lower]) : 0x20
        for position in lower..<upper {
            let current = next
            next = position + 1 < count ? Int(buffer[position + 1]) : 0x20
            let pair = current << 8 | next
            guard pairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
            walk(
                from: position, symbol(at: position), symbol(at: position + 1), symbol(at: position + 2), buffer,
                tables, into: &hits)
        }
    }

    /// The word starts of `range`, found 64 bytes at a time: a bit mask of word bytes (built without
    /// branches), whose set bits not preceded by a set bit are the starts. Ordinary text has a word
    /// boundary every few bytes, which costs a byte-at-a-time loop a mispredicted branch each time.
    private static func walkWordStarts(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ tables: Tables, into hits: inout HitCollector
    ) {
        let symbols = tables.symbols
        let count = buffer.count
        @inline(__always) func symbol(at offset: Int) -> Int {
            offset < count ? Int(symbols[Int(buffer[offset])]) : -1
        }
        var previousIsWord = range.lowerBound > 0 && symbols[Int(buffer[range.lowerBound - 1])] >= 0
        var blockStart = range.lowerBound
        while blockStart < range.upperBound {
            let length = min(64, range.upperBound - blockStart)
            var words: UInt64 = 0
            var offset = 0
            if let base = UnsafeRawPointer(buffer.baseAddress) {
                while offset + 8 <= length {
                    let bits = ASCII.wordByteBits(base.loadUnaligned(fromByteOffset: blockStart + offset, as: UInt64.self))
                    words |= bits << UInt64(offset)
                    offset += 8
                }
            }
            while offset < length {
                // The symbol's sign bit is set for bytes that end a word.
                let isWord = UInt64(UInt8(bitPattern: ~symbols[Int(buffer[blockStart + offset])]) >> 7)
                words |= isWord << UInt64(offset)
                offset += 1
            }
            var starts = words & ~(words << 1 | (previousIsWord ? 1 : 0))
            previousIsWord = words >> UInt64(length - 1) & 1 != 0
            while starts != 0 {
                let position = blockStart + starts.trailingZeroBitCount
                starts &= starts - 1
                walk(
                    from: position, symbol(at: position), symbol(at: position + 1), symbol(at: position + 2),
                    buffer, tables, into: &hits)
            }
            blockStart += length
        }
    }

    /// Walks the trie from the word byte at `position`, whose symbol and the next two are given.
    @inline(__always)
    private static func walk(
        from position: Int, _ first: Int, _ following: Int, _ afterThat: Int, _ buffer: UnsafeBufferPointer<UInt8>,
        _ tables: Tables, into hits: inout HitCollector
    ) {
        let symbols = tables.symbols
        let children = tables.children
        let terminalStart = tables.terminalStart
        let terminalRules = tables.terminalRules
        let count = buffer.count
        // A word that ends after one or two symbols continues with `wordEnd`.
        let second = following < 0 ? wordEnd : following
        let third = following < 0 || afterThat < 0 ? wordEnd : afterThat
        let bit = (first * alphabet + second) * alphabet + third
        guard tables.triples[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { return }
        var link = Int(children[first])
        var cursor = position + 1
        while link > 0 {
            let node = link >> 1
            if link & 1 != 0 {
                var slot = Int(terminalStart[node])
                let end = Int(terminalStart[node + 1])
                while slot < end {
                    hits.add(rule: Int(terminalRules[slot]), position: position)
                    slot += 1
                }
            }
            let symbol = cursor < count ? Int(symbols[Int(buffer[cursor])]) : -1
            if symbol < 0 || symbol == 36 {
                // The word ends here for whole-word keywords: a non-ASCII
                // character counts too, as PCRE2's `\b` may see punctuation there.
                let whole = Int(children[node * alphabet + wordEnd]) >> 1
                if whole > 0 {
                    var slot = Int(terminalStart[whole])
                    let end = Int(terminalStart[whole + 1])
                    while slot < end {
                        hits.add(rule: Int(terminalRules[slot]), position: position)
                        slot += 1
                    }
                }
                if symbol < 0 { break }
            }
            link = Int(children[node * alphabet + symbol])
            cursor += 1
        }
    }

    /// The parts common to both sorted, disjoint range lists.
    static func intersection(_ lhs: [Range<Int>], _ rhs: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var left = 0
        var right = 0
        while left < lhs.count, right < rhs.count {
            let lower = max(lhs[left].lowerBound, rhs[right].lowerBound)
            let upper = min(lhs[left].upperBound, rhs[right].upperBound)
            if lower < upper {
                // Each step emits at most one range and advances one side: room for all at once.
                if result.isEmpty { result.reserveCapacity(lhs.count + rhs.count) }
                result.append(lower..<upper)
            }
            if lhs[left].upperBound < rhs[right].upperBound { left += 1 } else { right += 1 }
        }
        return result
    }
}

/// Collects (rule, position) pairs during a trie walk in one growable flat buffer, without the
/// uniqueness checks and per-rule arrays of Swift collections in the hot loop.
struct HitCollector {
    private var pairs: UnsafeMutablePointer<UInt64>
    private var capacity = 256
    private var count = 0
    /// The last position recorded per rule: several keywords of one rule can end at the same word start.
    private let lastPosition: UnsafeMutablePointer<Int32>
    private let ruleCount: Int

    init(ruleCount: Int) {
        self.ruleCount = ruleCount
        pairs = .allocate(capacity: capacity)
        lastPosition = .allocate(capacity: max(ruleCount, 1))
        lastPosition.initialize(repeating: -1, count: max(ruleCount, 1))
    }

    func deallocate() {
        pairs.deallocate()
        lastPosition.deallocate()
    }

    /// Empties the collector for another walk, keeping its storage.
    mutating func reset() {
        count = 0
        lastPosition.update(repeating: -1, count: max(ruleCount, 1))
    }

    @inline(__always)
    mutating func add(rule: Int, position: Int) {
        if lastPosition[rule] == Int32(truncatingIfNeeded: position) { return }
        lastPosition[rule] = Int32(truncatingIfNeeded: position)
        if count == capacity {
            let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 2)
            grown.update(from: pairs, count: count)
            pairs.deallocate()
            pairs = grown
            capacity *= 2
        }
        pairs[count] = UInt64(rule) << 32 | UInt64(UInt32(truncatingIfNeeded: position))
        count += 1
    }

    /// Buckets the pairs by rule (a counting sort, so positions stay ascending within a rule), after
    /// merging in `reused` pairs (ascending by position, at positions this collector never walked).
    func finish(merging reused: [UInt64] = []) -> KeywordHits {
        var merged: [UInt64] = []
        merged.reserveCapacity(count + reused.count)
        var own = 0
        for pair in reused {
            while own < count, pairs[own] & 0xFFFF_FFFF < pair & 0xFFFF_FFFF {
                merged.append(pairs[own])
                own += 1
            }
            merged.append(pair)
        }
        while own < count {
            merged.append(pairs[own])
            own += 1
        }
        // One array holds both tables: entries 0...ruleCount are where each rule's positions start in
        // it (rule r's are `table[table[r]..<table[r + 1]]`), then the positions, bucketed by rule.
        // Counted (capped) and summed on the stack; two arrays per view in all, with `merged`.
        let header = ruleCount + 1
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: header) { starts in
            starts.initialize(repeating: 0)
            for pair in merged { starts[Int(pair >> 32) + 1] += 1 }
            starts[0] = Int32(header)
            for rule in 0..<ruleCount {
                starts[rule + 1] = starts[rule] + min(starts[rule + 1], Int32(KeywordIndex.maximumHits))
            }
            let total = Int(starts[ruleCount])
            let table = [Int32](unsafeUninitializedCapacity: total) { buffer, initialized in
                for index in 0..<header { buffer.initializeElement(at: index, to: starts[index]) }
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: ruleCount) { fill in
                    for rule in 0..<ruleCount { fill.initializeElement(at: rule, to: starts[rule]) }
                    for pair in merged {
                        let rule = Int(pair >> 32)
                        guard fill[rule] < starts[rule + 1] else { continue }
                        buffer[Int(fill[rule])] = Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF)
                        fill[rule] += 1
                    }
                }
                // Every rule's slots were filled: each got exactly its capped count.
                initialized = total
            }
            return KeywordHits(table: table, pairs: merged)
        }
    }
}

/// Keyword positions per rule, bucketed in one flat array.
struct KeywordHits {
    /// Rule r's positions are `table[Int(table[r])..<Int(table[r + 1])]`: the per-rule offsets and the
    /// positions share one allocation.
    fileprivate let table: [Int32]
    /// Every (rule << 32 | position), ascending by position.
    fileprivate let pairs: [UInt64]

    /// The pairs at positions inside `ranges` and outside `excluded` (both sorted and disjoint).
    func pairs(within ranges: [Range<Int>], outside excluded: [Range<Int>]) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(pairs.count)
        var inside = 0
        var outside = 0
        for pair in pairs {
            let position = Int(pair & 0xFFFF_FFFF)
            while inside < ranges.count, ranges[inside].upperBound <= position { inside += 1 }
            guard inside < ranges.count else { break }
            guard ranges[inside].lowerBound <= position else { continue }
            while outside < excluded.count, excluded[outside].upperBound <= position { outside += 1 }
            if outside < excluded.count, excluded[outside].lowerBound <= position { continue }
            result.append(pair)
        }
        return result
    }

    /// `pairs(within:outside:)` with each position first moved to its derived position by `map`.
    func pairs(mappedBy map: ViewOffsetMap, within ranges: [Range<Int>], outside excluded: [Range<Int>]) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(pairs.count)
        var inside = 0
        var outside = 0
        var cursor = 0
        for pair in pairs {
            let position = map.derivedPosition(ofBase: Int(pair & 0xFFFF_FFFF), cursor: &cursor)
            while inside < ranges.count, ranges[inside].upperBound <= position { inside += 1 }
            guard inside < ranges.count else { break }
            guard ranges[inside].lowerBound <= position else { continue }
            while outside < excluded.count, excluded[outside].upperBound <= position { outside += 1 }
            if outside < excluded.count, excluded[outside].lowerBound <= position { continue }
            result.append(pair & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(truncatingIfNeeded: position)))
        }
        return result
    }

    /// How many positions `rule` has (capped at `KeywordIndex.maximumHits`).
    func count(of rule: Int) -> Int32 {
        table[rule + 1] - table[rule]
    }

    /// The positions for `rule`, ascending: a view into the shared storage, not a copy (the rule loop
    /// asks for one per rule it runs).
    func positions(of rule: Int) -> ArraySlice<Int32> {
        table[Int(table[rule])..<Int(table[rule + 1])]
    }
}
