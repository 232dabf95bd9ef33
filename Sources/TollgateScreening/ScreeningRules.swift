/// One weighted prompt-injection pattern from a pack. Weights of distinct rules that match a message
/// are summed and compared with the policy threshold, so weak signals only block together.
/// A class, so the hot loops pass one reference instead of copying strings and arrays per rule.
final class InjectionRule: Sendable {
    /// Which rewriting of the message the pattern is written for (see `InjectionNormalizer`).
    enum View: String, Sendable { case text, compact }

    let id: String
    let category: String
    let weight: Double
    let view: View
    let summary: String
    let pattern: CompiledPattern
    /// Word prefixes (text view) or substrings (compact view), one of which every match contains; the
    /// rule only searches near them. Empty means the rule searches the whole view.
    let keywords: [String]
    /// Set when every match starts at a keyword: the rule is then tried only at keyword positions,
    /// with this anchored compilation of `pattern`.
    let anchoredPattern: CompiledPattern?
    /// The rule runs only on obfuscated views: a letters-only mirror of a text rule, which would count the
    /// same plain phrase twice if it also ran on undisguised text.
    let obfuscatedOnly: Bool
    /// For an anchored rule: words one of which every match contains at or after its keyword (same
    /// syntax as `keywords`). A keyword with none of them within `KeywordIndex.windowAfter` bytes is
    /// not tried, so a rule keyed on "the" or "in" does not start PCRE2 at every "the" or "in".
    let followedBy: [String]
    /// How many bytes after the keyword a `followedBy` word may start (at most `KeywordIndex.windowAfter`).
    let followedWithin: Int
    /// For a rule without keywords: byte strings (ASCII, compared case-insensitively) one of which every
    /// match contains. The rule searches only views, and only places of a derived view, that hold one.
    let literals: [[UInt8]]

    init(
        id: String, category: String, weight: Double, view: View, summary: String, pattern: CompiledPattern,
        keywords: [String], anchoredPattern: CompiledPattern?, obfuscatedOnly: Bool = false, followedBy: [String] = [],
        followedWithin: Int = KeywordIndex.windowAfter, literals: [[UInt8]] = []
    ) {
        self.literals = literals
        self.followedBy = followedBy
        self.followedWithin = followedWithin
        self.obfuscatedOnly = obfuscatedOnly
        self.id = id
        self.category = category
        self.weight = weight
        self.view = view
        self.summary = summary
        self.pattern = pattern
        self.keywords = keywords
        self.anchoredPattern = anchoredPattern
    }
}

extension InjectionRule {
    /// The flags the per-view rule loop tests for every rule, as a plain value: kept in one contiguous
    /// array, they spare the loop a trip to each rule object and its arrays for rules it then skips.
    struct Traits {
        let obfuscatedOnly: Bool
        let hasKeywords: Bool
        let hasLiterals: Bool
        let hasFollowers: Bool
        let followedWithin: Int
    }

    var traits: Traits {
        Traits(
            obfuscatedOnly: obfuscatedOnly, hasKeywords: !keywords.isEmpty, hasLiterals: !literals.isEmpty,
            hasFollowers: !followedBy.isEmpty, followedWithin: followedWithin)
    }
}

/// Checks run after a PII pattern matched, to throw away look-alikes (order numbers, bad checksums).
enum PIIValidator: String, Sendable {
    case none, luhn, iban, ssn, ipv4, ipv6, phone, secret
}

/// One PII pattern from a pack: where the entity is (`group`, 0 for the whole match) and how to validate it.
final class PIIRule: Sendable {
    let id: String
    let type: PIIType
    let validator: PIIValidator
    let group: Int
    let summary: String
    let pattern: CompiledPattern
    /// When > 0, the rule only searches near runs of at least this many digits (see `PIIGate`).
    let minimumDigits: Int
    /// With `minimumDigits`: how many dots such a digit run must hold (an IPv4 address has three).
    let minimumDots: Int
    /// With `minimumDigits`: every match starts with `windowBefore` bytes of this class right before a
    /// digit run (an IBAN's country code), so the rule is tried only there, with `leadPattern`
    /// (`pattern` compiled anchored), instead of searching a window around every run.
    let lead: ByteClass?
    let leadPattern: CompiledPattern?
    /// When set, the rule only searches near occurrences of this byte (`@` for email).
    let nearByte: UInt8?
    /// With `nearByte`: the bytes every match is made of, so the window around an occurrence ends where
    /// they do (see `PIIGate.windows(near:in:within:before:after:)`).
    let nearRun: ByteClass?
    /// With `nearRun`: how many of `nearByte` a run must hold to be searched.
    let nearMinimum: Int
    /// Byte strings one of which every match contains (`sk-`, `-----BEGIN `); when the text holds none,
    /// the rule is skipped without a PCRE2 scan. Compared case-insensitively for a caseless rule.
    let literals: [[UInt8]]
    let caseless: Bool
    /// How many bytes before a digit run a match can start (a `+`, `(` or country letters); nil for the
    /// default, which leaves room for a label such as "phone:". Smaller windows mean shorter scans.
    let windowBefore: Int?
    /// How many bytes past a digit run or `nearByte` a match can end; nil for the default.
    let windowAfter: Int?

    init(
        id: String, type: PIIType, validator: PIIValidator, group: Int, summary: String, pattern: CompiledPattern,
        minimumDigits: Int, minimumDots: Int = 0, lead: (ByteClass, CompiledPattern)? = nil, nearByte: UInt8?, nearRun: ByteClass? = nil, nearMinimum: Int = 1, literals: [[UInt8]] = [], caseless: Bool = false,
        windowBefore: Int? = nil, windowAfter: Int? = nil
    ) {
        self.windowBefore = windowBefore
        self.windowAfter = windowAfter
        self.literals = literals
        self.caseless = caseless
        self.id = id
        self.type = type
        self.validator = validator
        self.group = group
        self.summary = summary
        self.pattern = pattern
        self.minimumDigits = minimumDigits
        self.minimumDots = minimumDots
        self.nearByte = nearByte
        self.lead = lead?.0
        self.leadPattern = lead?.1
        self.nearRun = nearRun
        self.nearMinimum = nearMinimum
    }
}
