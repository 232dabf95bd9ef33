/// A trie of the rules' keywords (word prefixes, case-insensitive) used to decide which injection rules
/// can match a message at all, and where. Walking it costs a few nanoseconds per word, against several
/// microseconds per kilobyte for a PCRE2 scan, so most rules never run on ordinary text, and those that
/// do only search windows around their keywords.
struct KeywordIndex: Sendable {
    /// How far before and after a keyword a rule's match may extend.
    static let windowBefore = 192
    static let windowAfter = 448
    /// Beyond this many keyword hits for one windowed rule, search from the first hit to the end instead.
    static let maximumWindows = 24
    /// Beyond this many hits for one anchored rule, search the whole view instead.
    static let maximumHits = 4096

    private static let alphabet = 37
    private var children: [Int32]
    private var terminals: [[Int32]]

    init(keywordsByRule: [[String]]) {
        children = [Int32](repeating: -1, count: Self.alphabet)
        terminals = [[]]
        for (rule, keywords) in keywordsByRule.enumerated() {
            for keyword in keywords {
                var node = 0
                for byte in keyword.utf8 {
                    guard let symbol = Self.symbol(byte) else { break }
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
    }

    @inline(__always)
    private static func symbol(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x61...0x7A: return Int(byte - 0x61)
        case 0x41...0x5A: return Int(byte - 0x41)
        case 0x30...0x39: return 26 + Int(byte - 0x30)
        case 0x80...0xFF: return 36
        default: return nil
        }
    }

    /// Positions where each rule's keywords occur: at word starts (`wordStartsOnly`, for the text view)
    /// or anywhere (for the letters-only compact view). Indexed by rule.
    func hits(in bytes: [UInt8], ruleCount: Int, wordStartsOnly: Bool) -> [[Int]] {
        var result = [[Int]](repeating: [], count: ruleCount)
        bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var previousIsWord = false
            var position = 0
            while position < count {
                let isWord = Self.symbol(buffer[position]) != nil
                defer {
                    previousIsWord = isWord
                    position += 1
                }
                guard isWord, !(wordStartsOnly && previousIsWord) else { continue }
                var node = 0
                var cursor = position
                while cursor < count, let symbol = Self.symbol(buffer[cursor]) {
                    let next = children[node * Self.alphabet + symbol]
                    if next < 0 { break }
                    node = Int(next)
                    for rule in terminals[node] where result[Int(rule)].count <= Self.maximumHits {
                        if result[Int(rule)].last != position { result[Int(rule)].append(position) }
                    }
                    cursor += 1
                }
            }
        }
        return result
    }
}
