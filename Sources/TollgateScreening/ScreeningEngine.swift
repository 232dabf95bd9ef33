import TollgateCore
import Foundation

/// The compiled screening rules of one policy snapshot: built once when the policy loads, then shared
/// by every request. All state is immutable except the bounded scratch pool, so it is `Sendable`.
public final class ScreeningEngine: Sendable {
    let injectionRules: [InjectionRule]
    let piiRules: [PIIRule]
    /// Score at or above which a message counts as an injection.
    public let injectionThreshold: Double
    /// Multiplier for the weight of a rule that matched only an obfuscated view (see `InjectionView`).
    let obfuscationFactor = 1.75
    private let normalizer = InjectionNormalizer()
    let scratchPool: ScratchPool
    /// Separate tries for the two views, so the letters-only view is not walked for text-rule keywords.
    private let textKeywords: KeywordIndex
    private let compactKeywords: KeywordIndex
    /// The compact rules that can count in undisguised text with no split letters (not `obfuscated_only`).
    private let plainCompactKeywords: KeywordIndex
    /// Rule indices per view kind: the per-view loop visits only rules that can run there.
    private let textRuleIndices: [Int]
    private let compactRuleIndices: [Int]
    /// Per rule, what the per-view loop checks before it needs the rule itself.
    private let ruleTraits: [InjectionRule.Traits]

    init(injectionRules: [InjectionRule], piiRules: [PIIRule], injectionThreshold: Double) {
        self.injectionRules = injectionRules
        self.piiRules = piiRules
        self.injectionThreshold = injectionThreshold
        _ = HeapRetention.isConfigured
        let groups = (injectionRules.map(\.pattern.captureCount) + piiRules.map(\.pattern.captureCount)).max() ?? 0
        scratchPool = ScratchPool(ovectorPairs: groups + 1)
        // Rule i's `followed_by` words are pseudo-rule `count + i` in the same tries.
        let textFollowers = injectionRules.map { $0.view == .text ? $0.followedBy : [] }
        let compactFollowers = injectionRules.map { $0.view == .compact ? $0.followedBy : [] }
        textKeywords = KeywordIndex(
            keywordsByRule: injectionRules.map { $0.view == .text ? $0.keywords : [] } + textFollowers)
        compactKeywords = KeywordIndex(
            keywordsByRule: injectionRules.map { $0.view == .compact ? $0.keywords : [] } + compactFollowers)
        textRuleIndices = injectionRules.indices.filter { injectionRules[$0].view == .text }
        compactRuleIndices = injectionRules.indices.filter { injectionRules[$0].view == .compact }
        ruleTraits = injectionRules.map(\.traits)
        plainCompactKeywords = KeywordIndex(
            keywordsByRule: injectionRules.map { $0.view == .compact && !$0.obfuscatedOnly ? $0.keywords : [] }
                + injectionRules.map { $0.view == .compact && !$0.obfuscatedOnly ? $0.followedBy : [] })
    }

    /// Loads and compiles the packs. Throws `PolicyLoadError` listing every problem as `file:line: message`.
    public static func load(
        injectionPackPaths: [String], piiPackPath: String?, injectionThreshold: Double
    ) throws -> ScreeningEngine {
        var loader = PackLoader()
        var injection: [InjectionRule] = []
        var seen = Set<String>()
        var duplicates: [PolicyIssue] = []
        for path in injectionPackPaths {
            for rule in loader.loadInjection(path: path) {
                if seen.insert(rule.id).inserted {
                    injection.append(rule)
                } else {
                    // The same id in two packs would make verdicts ambiguous.
                    duplicates.append(
                        PolicyIssue(file: path, line: 1, message: "rule id '\(rule.id)' is also defined in another pack"))
                }
            }
        }
        let pii = piiPackPath.map { loader.loadPII(path: $0) } ?? []
        guard loader.errors.isEmpty, duplicates.isEmpty else { throw PolicyLoadError(issues: loader.errors + duplicates) }
        guard injectionThreshold.isFinite, injectionThreshold > 0 else {
            throw PolicyLoadError(issues: [PolicyIssue(file: "<policy>", line: 1, message: "injection threshold must be > 0")])
        }
        return ScreeningEngine(injectionRules: injection, piiRules: pii, injectionThreshold: injectionThreshold)
    }

    /// Loads the packs a `ScreeningConfiguration` names.
    public static func load(configuration: ScreeningConfiguration) throws -> ScreeningEngine {
        try load(
            injectionPackPaths: configuration.injectionPackPaths, piiPackPath: configuration.piiPackPath,
            injectionThreshold: configuration.injectionThreshold)
    }

    // MARK: injection

    /// Scores one message (any role: user text, tool results and quoted documents alike).
    public func scanInjection(_ text: String) -> InjectionVerdict {
        let views = normalizer.views(of: text)
        var matched = [Bool](repeating: false, count: injectionRules.count)
        var matchedPlain = [Bool](repeating: false, count: injectionRules.count)
        var hitLimit = false
        var viewHits: [KeywordHits?] = Array(repeating: nil, count: views.count)
        var literalOccurrences = LiteralOccurrences(views: views)
        // Rule i's keywords and its `followed_by` words (pseudo-rule count + i) share one collector.
        var collector = HitCollector(ruleCount: 2 * injectionRules.count)
        defer { collector.deallocate() }
        let completed = scratchPool.withScratch { scratch in
            for (viewIndex, view) in views.enumerated() {
                let kind: InjectionRule.View = view.kind == .text ? .text : .compact
                let index =
                    kind == .text
                    ? textKeywords : view.obfuscated || view.source != nil ? compactKeywords : plainCompactKeywords
                if let dirty = view.dirty, dirty.isEmpty { continue }
                let base = view.base.flatMap { viewHits[$0] }
                let hits: KeywordHits
                if let shared = view.sharesHits.flatMap({ viewHits[$0] }) {
                    hits = shared
                } else {
                    hits = index.hits(
                        in: view.bytes, wordStartsOnly: kind == .text, within: view.dirty,
                        base: base, changes: base == nil || view.shifted != nil ? [] : view.changes,
                        map: base == nil ? nil : view.shifted, collector: &collector)
                }
                // Hits are reused only between views walked with the same trie (derived compact views
                // are obfuscated, so they use `compactKeywords`).
                if kind == .text || view.obfuscated || view.source != nil { viewHits[viewIndex] = hits }
                // Keyword-less rules (short symbol patterns) search a derived view only right around
                // its rewrites: a match elsewhere reads the same in the view it came from.
                var nearChanges: [Range<Int>]?
                var keywordsBeforeChanges: [Range<Int>]?
                view.bytes.withUnsafeBufferPointer { buffer in
                    for index in kind == .text ? textRuleIndices : compactRuleIndices
                    where !matchedPlain[index] && (!matched[index] || !view.obfuscated)
                        && (hits.count(of: index) > 0 || !ruleTraits[index].hasKeywords)
                    {
                        // The flags come from one compact array: most rules are dropped here or at the
                        // followers check without reading their rule object (and its arrays) at all.
                        let traits = ruleTraits[index]
                        guard view.obfuscated || !traits.obfuscatedOnly || view.source != nil else { continue }
                        let outcome: SearchOutcome
                        if traits.hasKeywords {
                            var positions = hits.positions(of: index)
                            if traits.hasFollowers {
                                positions = Self.followed(
                                    positions, by: hits.positions(of: injectionRules.count + index),
                                    within: traits.followedWithin)
                                if positions.isEmpty { continue }
                            }
                            let rule = injectionRules[index]
                            // One `memchr` sweep per literal settles the common case, no literal at all.
                            if traits.hasLiterals, !PIIGate.containsAny(rule.literals, in: buffer) { continue }
                            if let anchored = rule.anchoredPattern, positions.count < KeywordIndex.maximumHits {
                                if view.dirty != nil {
                                    // A derived view's match counts only through a rewrite, and an anchored
                                    // match starts at its keyword: keywords after every nearby rewrite are moot.
                                    if keywordsBeforeChanges == nil {
                                        // Keyword positions with a rewrite at most `rewriteReach` bytes on.
                                        let reach = InjectionNormalizer.rewriteReach
                                        keywordsBeforeChanges = InjectionNormalizer.merged(
                                            view.changes.lazy.map { ($0 - reach + 1)..<($0 + 1) })
                                    }
                                    positions = Self.positions(positions, inside: keywordsBeforeChanges ?? [])
                                    if positions.isEmpty { continue }
                                }
                                outcome = Self.searchAnchored(anchored, buffer, at: positions, scratch: scratch)
                            } else {
                                if view.sharesHits != nil, let dirty = view.dirty {
                                    // Shared hits cover the whole view; only those near rewrites are new here.
                                    positions = Self.positions(positions, inside: dirty)
                                    if positions.isEmpty { continue }
                                }
                                outcome = Self.searchWindows(rule.pattern, buffer, around: positions, scratch: scratch)
                            }
                        } else if view.dirty != nil {
                            let rule = injectionRules[index]
                            if traits.hasLiterals, buffer.count <= Self.shortView,
                                !PIIGate.containsAny(rule.literals, in: buffer)
                            {
                                continue
                            }
                            if nearChanges == nil {
                                let reach = Self.keywordlessReach
                                nearChanges = InjectionNormalizer.merged(
                                    view.changes.lazy.map { ($0 - reach)..<min(buffer.count, $0 + reach) })
                            }
                            let ranges = nearChanges ?? []
                            if !traits.hasLiterals {
                                outcome = Self.searchRanges(rule.pattern, buffer, ranges, scratch: scratch)
                            } else {
                                // Only occurrences around the rewrites matter: derived from the base view's,
                                // or else found by scanning only those places.
                                let occurrences =
                                    literalOccurrences.occurrences(of: rule.literals, rule: index, in: viewIndex)
                                    ?? PIIGate.occurrences(of: rule.literals, in: buffer, startingWithin: ranges)
                                if let anchored = rule.anchoredPattern {
                                    let starts = Self.starts(of: occurrences, within: ranges)
                                    if starts.isEmpty { continue }
                                    outcome = Self.searchAnchored(anchored, buffer, at: starts[...], scratch: scratch)
                                } else {
                                    let holding = Self.overlapping(ranges, occurrences)
                                    if holding.isEmpty { continue }
                                    outcome = Self.searchRanges(rule.pattern, buffer, holding, scratch: scratch)
                                }
                            }
                        } else {
                            let rule = injectionRules[index]
                            if let anchored = rule.anchoredPattern {
                                let occurrences =
                                    literalOccurrences.occurrences(of: rule.literals, rule: index, in: viewIndex)
                                    ?? PIIGate.occurrences(of: rule.literals, in: buffer)
                                let starts = Self.starts(of: occurrences, within: [0..<buffer.count])
                                if starts.isEmpty { continue }
                                outcome = Self.searchAnchored(anchored, buffer, at: starts[...], scratch: scratch)
                            } else {
                                if traits.hasLiterals, !PIIGate.containsAny(rule.literals, in: buffer) { continue }
                                outcome = rule.pattern.search(buffer, from: 0, scratch: scratch)
                            }
                        }
                        if case .match(let start, let end) = outcome {
                            // In a letters-only view of plain text, a match whose letters were split
                            // apart in the message counts as disguised.
                            var disguised = view.obfuscated && view.coversChange(start, end)
                            if !disguised, let source = view.source {
                                disguised = InjectionNormalizer.isSplit(start..<end, compact: view.bytes, source: source)
                            }
                            if disguised || !traits.obfuscatedOnly {
                                matched[index] = true
                                if !disguised { matchedPlain[index] = true }
                            }
                        }
                        if outcome == .limitExceeded { hitLimit = true }
                    }
                }
            }
            return true
        }
        if completed == nil { hitLimit = true }
        var score = 0.0
        var ids: [String] = []
        for (index, rule) in injectionRules.enumerated() where matched[index] {
            // A phrase seen only after undoing obfuscation counts more: disguise is evidence of intent.
            score += matchedPlain[index] ? rule.weight : rule.weight * obfuscationFactor
            ids.append(rule.id)
        }
        return InjectionVerdict(
            score: score, ruleIDs: ids, isInjection: score >= injectionThreshold, hitMatchLimit: hitLimit)
    }

    // MARK: PII

    /// Finds entities of the requested types, validated and without overlaps, in text order.
    public func findPII(_ text: String, types: Set<PIIType> = PIIType.every) -> [PIIFinding] {
        guard !types.isEmpty, !text.isEmpty else { return [] }
        let view = PIIView(text)
        var candidates: [(rule: PIIRule, range: Range<Int>)] = []
        let gate = PIIGate(view.bytes)
        let everyType = types.count == PIIType.every.count
        _ = scratchPool.withScratch { scratch in
            view.bytes.withUnsafeBufferPointer { buffer in
                let pairs = BytePairs(buffer)
                for rule in piiRules where everyType || types.contains(rule.type) {
                    if !rule.literals.isEmpty,
                        !PIIGate.containsAny(rule.literals, in: buffer, caseless: rule.caseless, pairs: pairs)
                    {
                        continue
                    }
                    /// Every match of `rule` inside `window`, validated.
                    func search(_ window: Range<Int>) {
                        let lower = Self.characterStart(window.lowerBound, in: buffer)
                        let upper = Self.characterStart(window.upperBound, in: buffer)
                        let subject = UnsafeBufferPointer(rebasing: buffer[0..<upper])
                        var position = lower
                        while position <= upper {
                            guard case .match(let start, let end) = rule.pattern.search(subject, from: position, scratch: scratch)
                            else { break }
                            if let span = rule.pattern.captureRange(rule.group, scratch: scratch), !span.isEmpty,
                                PIIValidation.isValid(view.bytes[span], as: rule.validator)
                            {
                                // Windows are disjoint, so one rule never reports the same span twice.
                                if candidates.isEmpty { candidates.reserveCapacity(16) }
                                candidates.append((rule, span))
                            }
                            position = end > start ? end : Self.nextCharacter(after: start, in: subject)
                        }
                    }
                    if rule.minimumDigits > 0 {
                        // Walked straight off the digit runs: no window list is built per rule.
                        let windows = gate.windows(
                            minimumDigits: rule.minimumDigits, minimumDots: rule.minimumDots, count: buffer.count,
                            before: rule.windowBefore ?? PIIGate.before, after: rule.windowAfter ?? PIIGate.after)
                        guard let lead = rule.lead, let leadPattern = rule.leadPattern else {
                            for window in windows { search(window) }
                            continue
                        }
                        // One anchored try per run that has its lead characters, not a scan of every window.
                        for (start, upper) in gate.leadStarts(
                            minimumDigits: rule.minimumDigits, lead: lead, leadCount: rule.windowBefore ?? 0,
                            in: buffer, windows: windows)
                        {
                            let subject = UnsafeBufferPointer(rebasing: buffer[0..<Self.characterStart(upper, in: buffer)])
                            guard start < subject.count,
                                case .match = leadPattern.search(subject, from: start, scratch: scratch),
                                let span = leadPattern.captureRange(rule.group, scratch: scratch), !span.isEmpty,
                                PIIValidation.isValid(view.bytes[span], as: rule.validator)
                            else { continue }
                            if candidates.isEmpty { candidates.reserveCapacity(16) }
                            candidates.append((rule, span))
                        }
                    } else if let byte = rule.nearByte, let run = rule.nearRun {
                        for window in PIIGate.windows(
                            near: byte, in: buffer, within: run, before: rule.windowBefore ?? 80,
                            after: rule.windowAfter ?? 260, atLeast: rule.nearMinimum)
                        {
                            search(window)
                        }
                    } else if let byte = rule.nearByte {
                        for window in PIIGate.windows(
                            near: byte, in: buffer, before: rule.windowBefore ?? 80, after: rule.windowAfter ?? 260)
                        {
                            search(window)
                        }
                    } else {
                        search(0..<buffer.count)
                    }
                }
            }
        }
        // Most specific kind first, then longest; keep a candidate only if it overlaps nothing kept.
        candidates.sort { lhs, rhs in
            if lhs.rule.type.precedence != rhs.rule.type.precedence {
                return lhs.rule.type.precedence < rhs.rule.type.precedence
            }
            return lhs.range.count > rhs.range.count
        }
        // `kept` stays sorted by position, so each overlap check is a binary search, not a scan.
        var kept: [(rule: PIIRule, range: Range<Int>)] = []
        for candidate in candidates {
            var low = 0
            var high = kept.count
            while low < high {
                let middle = (low + high) / 2
                if kept[middle].range.lowerBound < candidate.range.lowerBound { low = middle + 1 } else { high = middle }
            }
            let overlapsBefore = low > 0 && kept[low - 1].range.overlaps(candidate.range)
            let overlapsAfter = low < kept.count && kept[low].range.overlaps(candidate.range)
            if !overlapsBefore && !overlapsAfter { kept.insert(candidate, at: low) }
        }
        let utf8 = text.utf8
        let located = view.locate(kept.map(\.range))
        return zip(kept, located).map { candidate, place in
            let lower = utf8.index(utf8.startIndex, offsetBy: place.utf8.lowerBound)
            let upper = utf8.index(lower, offsetBy: place.utf8.count)
            return PIIFinding(
                type: candidate.rule.type, ruleID: candidate.rule.id, range: lower..<upper,
                start: place.scalars.lowerBound, end: place.scalars.upperBound)
        }
    }

    /// Replaces entities of `types` with typed placeholders (`[EMAIL_1]`), numbered per session so the
    /// same value gets the same placeholder throughout a request and can be restored later.
    public func redact(_ text: String, types: Set<PIIType>, session: RedactionSession) -> String {
        let findings = findPII(text, types: types)
        guard !findings.isEmpty else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var cursor = text.startIndex
        for finding in findings {
            result += text[cursor..<finding.range.lowerBound]
            result += session.placeholder(for: String(text[finding.range]), type: finding.type)
            cursor = finding.range.upperBound
        }
        result += text[cursor...]
        return result
    }

    /// The keyword positions with a `followed_by` word at or after them, less than `within` bytes on.
    /// Both lists ascend, so one merge pass does it.
    private static func followed(
        _ positions: ArraySlice<Int32>, by followers: ArraySlice<Int32>, within: Int
    ) -> ArraySlice<Int32> {
        var next = followers.startIndex
        return ArraySlice(
            positions.filter { position in
                while next < followers.endIndex, followers[next] < position { next += 1 }
                return next < followers.endIndex && Int(followers[next]) < Int(position) + within
            })
    }

    /// The positions (ascending) inside one of `ranges` (ascending, disjoint).
    private static func positions(_ positions: ArraySlice<Int32>, inside ranges: [Range<Int>]) -> ArraySlice<Int32> {
        var next = 0
        return ArraySlice(
            positions.filter { position in
                while next < ranges.count, ranges[next].upperBound <= Int(position) { next += 1 }
                return next < ranges.count && ranges[next].lowerBound <= Int(position)
            })
    }

    /// The `ranges` that overlap one of `occurrences` (both ascending): a match lies inside the range
    /// searched and contains an occurrence. `searchRanges` may start a range up to 3 bytes early (at a
    /// character start), so the test allows for that.
    private static func overlapping(_ ranges: [Range<Int>], _ occurrences: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var next = 0
        for range in ranges {
            while next < occurrences.count, occurrences[next].upperBound <= range.lowerBound - 3 { next += 1 }
            if next < occurrences.count, occurrences[next].lowerBound < range.upperBound { result.append(range) }
        }
        return result
    }

    /// The distinct starts of `occurrences` (ascending) that lie inside one of `ranges` (ascending,
    /// disjoint), as the positions an anchored literal rule is tried at.
    private static func starts(of occurrences: [Range<Int>], within ranges: [Range<Int>]) -> [Int32] {
        var result: [Int32] = []
        var next = 0
        for occurrence in occurrences {
            let start = occurrence.lowerBound
            while next < ranges.count, ranges[next].upperBound <= start { next += 1 }
            guard next < ranges.count else { break }
            guard ranges[next].lowerBound <= start, result.last != Int32(start) else { continue }
            result.append(Int32(start))
        }
        return result
    }

    /// Up to this many bytes, a derived view is checked for a rule's literals as a whole before the places
    /// around its rewrites are scanned: in a short view one sweep per literal costs less than one per place.
    static let shortView = 4096

    /// How far around a rewrite a keyword-less rule searches a derived view.
    static let keywordlessReach = 64

    /// Searches each of `ranges` (a derived view's rewritten places) as its own subject.
    private static func searchRanges(
        _ pattern: CompiledPattern, _ buffer: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>], scratch: MatchScratch
    ) -> SearchOutcome {
        firstMatch(
            pattern, buffer, scratch: scratch,
            in: ranges.lazy.map { range in
                (
                    from: characterStart(min(range.lowerBound, buffer.count), in: buffer),
                    upper: characterStart(min(range.upperBound, buffer.count), in: buffer)
                )
            })
    }

    /// Tries an anchored pattern at each keyword position, with the subject cut `windowAfter` bytes later.
    private static func searchAnchored(
        _ pattern: CompiledPattern, _ buffer: UnsafeBufferPointer<UInt8>, at hits: ArraySlice<Int32>,
        scratch: MatchScratch
    ) -> SearchOutcome {
        firstMatch(
            pattern, buffer, scratch: scratch,
            in: hits.lazy.map { hit in
                let hit = Int(hit)
                return (from: hit, upper: characterStart(min(buffer.count, hit + KeywordIndex.windowAfter), in: buffer))
            })
    }

    /// Searches only the windows around keyword hits, merged where they overlap.
    private static func searchWindows(
        _ pattern: CompiledPattern, _ buffer: UnsafeBufferPointer<UInt8>, around hits: ArraySlice<Int32>,
        scratch: MatchScratch
    ) -> SearchOutcome {
        if hits.count > KeywordIndex.maximumWindows, let first = hits.first {
            let start = characterStart(max(0, Int(first) - KeywordIndex.windowBefore), in: buffer)
            return pattern.search(buffer, from: start, scratch: scratch)
        }
        return firstMatch(pattern, buffer, scratch: scratch, in: MergedWindows(hits: hits, buffer: buffer))
    }

    /// Searches `buffer[..<upper]` from `from` for each window in turn: the first match wins, and a
    /// window that hit the match limit is reported only if no other window matched.
    private static func firstMatch<Windows: Sequence>(
        _ pattern: CompiledPattern, _ buffer: UnsafeBufferPointer<UInt8>, scratch: MatchScratch, in windows: Windows
    ) -> SearchOutcome where Windows.Element == (from: Int, upper: Int) {
        var sawLimit = false
        for window in windows {
            switch pattern.search(UnsafeBufferPointer(rebasing: buffer[0..<window.upper]), from: window.from, scratch: scratch) {
            case .match(let start, let end): return .match(start: start, end: end)
            case .limitExceeded: sawLimit = true
            case .noMatch: break
            }
        }
        return sawLimit ? .limitExceeded : .noMatch
    }

    /// The windows around sorted keyword hits (`windowBefore` before, `windowAfter` after each),
    /// overlapping ones merged, produced without allocating.
    private struct MergedWindows: Sequence, IteratorProtocol {
        let hits: ArraySlice<Int32>
        let buffer: UnsafeBufferPointer<UInt8>
        var index: Int

        init(hits: ArraySlice<Int32>, buffer: UnsafeBufferPointer<UInt8>) {
            self.hits = hits
            self.buffer = buffer
            index = hits.startIndex
        }

        mutating func next() -> (from: Int, upper: Int)? {
            guard index < hits.endIndex else { return nil }
            let hit = Int(hits[index])
            let lower = ScreeningEngine.characterStart(Swift.max(0, hit - KeywordIndex.windowBefore), in: buffer)
            var upper = Swift.min(buffer.count, hit + KeywordIndex.windowAfter)
            index += 1
            while index < hits.endIndex, Int(hits[index]) - KeywordIndex.windowBefore <= upper {
                upper = Swift.min(buffer.count, Int(hits[index]) + KeywordIndex.windowAfter)
                index += 1
            }
            return (from: lower, upper: ScreeningEngine.characterStart(upper, in: buffer))
        }
    }

    /// Moves `offset` back to the first byte of a UTF-8 character.
    private static func characterStart(_ offset: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var position = offset
        while position > 0, position < buffer.count, buffer[position] & 0xC0 == 0x80 { position -= 1 }
        return position
    }

    private static func nextCharacter(after start: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var next = start + 1
        while next < buffer.count, buffer[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }
}

