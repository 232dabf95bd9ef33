/// The words that signal reasoning, math or code, matched by prefix (stems) or exactly, bucketed by first
/// letter so a lookup costs a couple of integer comparisons.
struct KeywordTable: Sendable {
    enum Kind: Sendable { case reasoning, math, code }

    private struct Entry: Sendable {
        var packed: UInt64
        var mask: UInt64
        var length: Int
        var exact: Bool
        var kind: Kind
    }

    static let shared = KeywordTable()

    /// Stems match any word starting with them ("analy" → analyze, analysis, analytical).
    static let reasoningStems = [
        "analy", "compar", "contrast", "prove", "proof", "proving", "deriv", "design", "evaluat", "justif",
        "critiq", "optimi", "architec", "refactor", "debug", "tradeoff", "implicat", "hypothes", "synthesi",
        "assess", "deduc", "rigor", "reasonin", "strateg", "diagnos", "investig", "elaborat", "formaliz",
        "algorith", "implemen", "scalab", "brainsto",
    ]
    static let mathStems = [
        "equation", "integra", "theorem", "lemma", "matri", "eigen", "probabil", "polynom", "calcul", "solv",
        "sqrt", "logarit", "factori", "converge", "statisti", "variance", "geometr", "algebra", "topolog",
        "combinat", "permutat", "modulo",
    ]
    /// Language and tool names that mark a programming task, matched by prefix.
    static let codeStems = ["python", "javascri", "typescri", "golang", "kotlin", "regex", "kubectl", "dockerfi"]
    /// Exact words that are code and rarely English.
    static let codeWords = [
        "def", "func", "fn", "elif", "impl", "println", "printf", "lambda", "const", "void", "nullptr", "async",
        "await", "typedef", "struct", "std", "bool", "enum", "malloc", "sizeof", "usize", "sql", "json", "yaml",
    ]

    private let entries: [Entry]
    /// `starts[c]..<starts[c + 1]` are the entries whose first letter is `a + c`.
    private let starts: [Int]

    private init() {
        var all: [(String, Bool, Kind)] = []
        all += Self.reasoningStems.map { ($0, false, .reasoning) }
        all += Self.mathStems.map { ($0, false, .math) }
        all += Self.codeStems.map { ($0, false, .code) }
        all += Self.codeWords.map { ($0, true, .code) }
        all.sort { $0.0.utf8.first ?? 0 < $1.0.utf8.first ?? 0 }
        entries = all.map { text, exact, kind in
            let length = min(8, text.utf8.count)
            let mask: UInt64 = length == 8 ? .max : (1 << (8 * UInt64(length))) - 1
            return Entry(packed: pack(text), mask: mask, length: length, exact: exact, kind: kind)
        }
        var starts = Array(repeating: 0, count: 27)
        for letter in 0..<26 {
            starts[letter + 1] = starts[letter] + all.filter { ($0.0.utf8.first ?? 0) == 0x61 + UInt8(letter) }.count
        }
        self.starts = starts
    }

    /// The kind of a scanned word (packed first 8 bytes, lowercased; `length` is its full length).
    @inline(__always)
    func kind(of word: UInt64, length: Int) -> Kind? {
        let first = UInt8(truncatingIfNeeded: word) &- 0x61
        guard first < 26 else { return nil }
        var index = starts[Int(first)]
        let end = starts[Int(first) + 1]
        while index < end {
            let entry = entries[index]
            if length >= entry.length && word & entry.mask == entry.packed && (!entry.exact || length == entry.length) {
                return entry.kind
            }
            index += 1
        }
        return nil
    }
}
