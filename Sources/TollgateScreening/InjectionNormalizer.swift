import Foundation

/// One rewriting of a message that injection rules run over.
struct InjectionView {
    enum Kind { case text, compact }
    let kind: Kind
    let bytes: [UInt8]
    /// True when the view only exists because the message was obfuscated (leetspeak, spaced or split
    /// letters, mixed-script homoglyphs, full-width letters, invisible characters inside words, encoded
    /// segments). A trigger phrase that only appears after undoing obfuscation is stronger evidence than
    /// the same phrase in plain text: benign writers do not disguise "ignore previous instructions".
    let obfuscated: Bool
    /// For a compact view of undisguised text: the text it was compacted from, so a match can be checked
    /// for split words (`ign-ore`, `i g n o r e`) inside it (see `InjectionNormalizer.isSplit`).
    var source: [UInt8]? = nil
    /// For a view derived from another by local rewrites (leetspeak, joined letters): the byte ranges
    /// around the rewritten places, sorted and disjoint. A match elsewhere is also a match of the view it
    /// was derived from, which was already searched, so only these ranges are searched. nil: everything.
    var dirty: [Range<Int>]? = nil
    /// The rewritten positions themselves (ascending), for derived views: a match that covers none of
    /// them reads the same in the undisguised text, so it is not evidence of disguise.
    var changes: [Int] = []
    /// For a derived view of the same length as an earlier view that it differs from only at `changes`
    /// (in-place rewrites): that view's index, so its keyword hits can be reused (see `KeywordIndex.hits`).
    var base: Int? = nil
    /// For a derived view whose rewrite removed or inserted bytes: how it lines up with view `base`
    /// (walked whole), so that view's keyword hits are reused away from the rewrites.
    var shifted: ViewOffsetMap? = nil
    /// For a derived view whose rewrites only swap bytes the keyword trie reads alike (a separator for a
    /// space: both end a word), the view whose keyword hits are exactly its own, so it is not walked.
    var sharesHits: Int? = nil

    /// Whether `start..<end` covers a rewritten position (always true for views without `changes`).
    func coversChange(_ start: Int, _ end: Int) -> Bool {
        guard dirty != nil else { return true }
        var low = 0
        var high = changes.count
        while low < high {
            let middle = (low + high) / 2
            if changes[middle] < start { low = middle + 1 } else { high = middle }
        }
        return low < changes.count && changes[low] < end
    }
}

/// Rewrites a message into the views injection rules match, so trivial obfuscation does not evade them:
/// NFKC, invisible characters removed, homoglyphs folded, whitespace collapsed (the *text* view); the
/// same with leetspeak folded and spaced-out letters joined; a *compact* view of letters only (defeats
/// split words such as `ign-ore prev.ious`); and base64 / URL-encoded segments decoded and screened
/// the same way. Offsets are not kept: injection verdicts never point into the text.
struct InjectionNormalizer {
    /// How deep decoded text is decoded again (base64 inside URL encoding, ...).
    var maxDecodeDepth = 2
    /// Upper bound on decoded bytes per message, so a huge base64 blob cannot multiply the work.
    var decodeBudget = 256 * 1024
    /// Shortest run of base64 characters worth decoding.
    var minimumBase64Run = 16
    /// How far before a rewrite (leetspeak, joined letters) a keyword is looked for in a derived view:
    /// trigger phrases are far shorter.
    static let rewriteReach = 200

    func views(of text: String) -> [InjectionView] {
        var budget = decodeBudget
        var result: [InjectionView] = []
        // Seven views for plain text with every rewrite; decoded segments add more.
        result.reserveCapacity(8)
        appendViews(of: text, depth: 0, budget: &budget, into: &result)
        return result
    }

    private func appendViews(of text: String, depth: Int, budget: inout Int, into result: inout [InjectionView]) {
        var disguised = false
        let folded = Self.fold(text, disguised: &disguised)
        // Decoded segments are obfuscated by construction.
        let plain = depth == 0 && !disguised
        let foldedIndex = result.count
        result.append(InjectionView(kind: .text, bytes: folded, obfuscated: !plain))
        var changes: [Int] = []
        changes.reserveCapacity(64)
        // `-`, `_`, `.` between letters read as spaces: `system_prompt` is two words, not a disguise. A
        // phrase readable this way is plain; only one that needs the separator removed is split.
        let separated = Self.separatorsAsSpaces(folded, changes: &changes)
        if let separated {
            let dirty = plain ? Self.ranges(around: changes, count: separated.count) : nil
            result.append(
                InjectionView(
                    kind: .text, bytes: separated, obfuscated: !plain, dirty: dirty, changes: changes,
                    base: plain ? foldedIndex : nil, sharesHits: foldedIndex))
        }
        changes.removeAll(keepingCapacity: true)
        let deleeted = Self.foldLeetspeak(folded, one: UInt8(ascii: "i"), changes: &changes)
        let leetChanges = changes
        if let deleeted {
            let deleetedIndex = result.count
            result.append(derived(deleeted, changes, plain: plain, base: foldedIndex))
            // `1` reads as `i` or `l` ("1ns7ruc7ion$", "r3p1y"); the second reading is its own view.
            let ones = changes.filter { folded[$0] == UInt8(ascii: "1") }
            if !ones.isEmpty {
                var ells = deleeted
                for position in ones { ells[position] = UInt8(ascii: "l") }
                result.append(derived(ells, ones, plain: plain, base: deleetedIndex))
            }
        }
        let base = deleeted ?? folded
        changes.removeAll(keepingCapacity: true)
        let joined = Self.joinSpacedLetters(base, changes: &changes)
        if let joined { result.append(derived(joined, changes, plain: plain)) }
        changes.removeAll(keepingCapacity: true)
        let rejoined = Self.joinSplitWords(joined ?? base, changes: &changes)
        if let rejoined {
            var view = derived(rejoined, changes, plain: plain)
            if joined == nil {
                // Separators removed from the folded text (leetspeak rewritten in place before).
                view.base = foldedIndex
                view.shifted = ViewOffsetMap.removing(at: changes, rewrittenInBase: leetChanges)
            }
            result.append(view)
        }
        // Splits and spacing vanish in the letters-only view anyway; leetspeak needs its own compact view.
        // Leetspeak only turns ASCII non-letters (which compaction drops) into letters, so the plain
        // letters-only view is the leetspeak one without the letters it gained: one compaction, not two.
        changes.removeAll(keepingCapacity: true)
        let letters = deleeted.map { Self.compact($0, changedFrom: folded, changes: &changes) }
        let compactIndex = result.count
        result.append(
            InjectionView(
                kind: .compact, bytes: letters.map { Self.removing(changes, from: $0) } ?? Self.compact(folded),
                obfuscated: !plain, source: plain ? Self.withSplitEvidence(separated ?? folded) : nil))
        if let letters {
            var view = derived(letters, changes, plain: plain, kind: .compact)
            // The letters leetspeak made of digits and symbols are inserted into the plain letters-only view.
            view.base = compactIndex
            view.shifted = ViewOffsetMap.inserting(at: changes)
            result.append(view)
        }

        guard depth < maxDecodeDepth, budget > 0 else { return }
        for decoded in decodedSegments(of: folded, original: text, budget: &budget) {
            appendViews(of: decoded, depth: depth + 1, budget: &budget, into: &result)
        }
    }

    /// A view derived by local rewrites. Of disguised text, every part is disguised, so it is searched whole.
    private func derived(
        _ bytes: [UInt8], _ changes: [Int], plain: Bool, kind: InjectionView.Kind = .text, base: Int? = nil
    ) -> InjectionView {
        guard plain else { return InjectionView(kind: kind, bytes: bytes, obfuscated: true) }
        return InjectionView(
            kind: kind, bytes: bytes, obfuscated: true, dirty: Self.ranges(around: changes, count: bytes.count),
            changes: changes, base: base)
    }

    /// Merged ranges around changed positions: a match through a rewrite is searched when its keyword
    /// lies at most 200 bytes before or 96 after it. Trigger phrases are far shorter; the narrow ranges
    /// keep derived views cheap on long text, where rewrites (e-mail `@`, `3rd`, `e.g.`) are everywhere.
    /// Ascending ranges merged where they overlap or touch, clamped at 0.
    static func merged<S: Sequence>(_ ranges: S) -> [Range<Int>] where S.Element == Range<Int> {
        var result: [Range<Int>] = []
        for range in ranges {
            let lower = max(0, range.lowerBound)
            guard lower < range.upperBound else { continue }
            if let last = result.last, last.upperBound >= lower {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                // Room for all at the first append, instead of growing the array several times.
                if result.isEmpty { result.reserveCapacity(ranges.underestimatedCount) }
                result.append(lower..<range.upperBound)
            }
        }
        return result
    }

    static func ranges(around changes: [Int], count: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity(changes.count)
        let before = rewriteReach
        let after = 96
        for change in changes {
            let lower = max(0, change - before)
            let upper = min(count, change + after)
            guard lower < upper else { continue }
            if let last = result.last, last.upperBound >= lower {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, upper)
            } else {
                result.append(lower..<upper)
            }
        }
        return result
    }

    // MARK: folding

    /// NFKC, invisible characters dropped, homoglyphs folded to Latin, whitespace runs collapsed to one space.
    static func fold(_ text: String) -> [UInt8] {
        var disguised = false
        return fold(text, disguised: &disguised)
    }

    /// `fold`, also reporting whether the text was disguised: a Latin word with Cyrillic/Greek look-alikes
    /// mixed in, full-width Latin letters, or an invisible character between two letters.
    static func fold(_ text: String, disguised: inout Bool) -> [UInt8] {
        var copy = text
        let (folded, wasDisguised) = copy.withUTF8 { foldBytes($0) }
        if wasDisguised { disguised = true }
        return folded
    }

    /// Copies ASCII `bytes` into `out` from `start`, each run of whitespace becoming one space
    /// (none at the start while `lastWasSpace`); returns the end index. `out` needs room for all of `bytes`.
    @inline(__always)
    static func collapseWhitespace(
        _ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int, lastWasSpace wasSpace: inout Bool
    ) -> Int {
        var written = start
        var previous = wasSpace ? 1 : 0
        /// Branch-free: the byte is written (whitespace as a space), and the cursor moves unless it is
        /// whitespace after whitespace. Flags as integers: `&&` and `||` compile to branches.
        @inline(__always) func copy(_ byte: UInt8) {
            let space = (byte == 0x20 ? 1 : 0) | (byte &- 0x09 < 5 ? 1 : 0)
            out[written] = space != 0 ? 0x20 : byte
            written &+= 1 &- (space & previous)
            previous = space
        }
        var index = 0
        let count = bytes.count
        // Eight bytes at a time: when no whitespace follows whitespace, all eight are written (whitespace
        // as a space) in one store. `out` may be `bytes`' own storage (collapsing in place); the store
        // never reaches past the eight bytes just loaded.
        if let source = UnsafeRawPointer(bytes.baseAddress), let target = UnsafeMutableRawPointer(out.baseAddress) {
            while index + 8 <= count {
                let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let spaces = ASCII.whitespaceMask(word)
                if spaces & (spaces << 8 | UInt64(previous) << 7) == 0 {
                    let widened = (spaces >> 7) &* 0xFF
                    target.storeBytes(
                        of: word & ~widened | widened & 0x2020_2020_2020_2020, toByteOffset: written, as: UInt64.self)
                    written &+= 8
                    previous = Int(spaces >> 63)
                } else {
                    for offset in index..<(index + 8) { copy(bytes[offset]) }
                }
                index += 8
            }
        }
        while index < count {
            copy(bytes[index])
            index += 1
        }
        wasSpace = previous != 0
        return written
    }

    /// `fold` over UTF-8 bytes. Pure ASCII (the common case) is one copy that collapses whitespace;
    /// other text is decoded by hand, and only lines holding a scalar NFKC can change go through
    /// Foundation (a newline never composes with its neighbours, so line-wise NFKC equals whole-text NFKC).
    static func foldBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], disguised: Bool) {
        let count = bytes.count
        if ASCII.isASCII(bytes) {
            let out = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                var lastWasSpace = true
                initialized = collapseWhitespace(bytes, into: buffer, at: 0, lastWasSpace: &lastWasSpace)
            }
            return (out, false)
        }
        var folder = Folder(capacity: count)
        var lineStart = 0
        // Start of the ASCII lines (with their newlines) not yet folded: runs of them are folded in one
        // call, as collapsing whitespace reads a newline like any other space.
        var pending = 0
        while lineStart <= count {
            var lineEnd = lineStart
            var needsNFKC = false
            var lineIsASCII = true
            while lineEnd < count {
                if ASCII.isPlainWord(in: bytes, at: lineEnd) {
                    lineEnd += 8
                    continue
                }
                let byte = bytes[lineEnd]
                if byte == 0x0A { break }
                if byte < 0x80 {
                    lineEnd += 1
                    continue
                }
                lineIsASCII = false
                let (value, length) = UTF8Decoding.decode(bytes, at: lineEnd)
                if !NFKCStableRanges.contains(value) {
                    needsNFKC = true
                    // Full-width Latin letters are a disguise in otherwise Latin text.
                    if value >= 0xFF21 && value <= 0xFF5A { folder.state.disguised = true }
                }
                lineEnd += length
            }
            if lineIsASCII {
                // No look-alike or invisible character: only whitespace to collapse, and the line ends
                // at a newline (a space for the word state), so the per-word disguise state is moot.
                // Folded later, together with the ASCII lines around it.
                lineStart = lineEnd + 1
                continue
            }
            folder.appendASCII(UnsafeBufferPointer(rebasing: bytes[pending..<lineStart]))
            if needsNFKC {
                let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]), as: UTF8.self)
                for scalar in line.precomposedStringWithCompatibilityMapping.unicodeScalars {
                    folder.consume(scalar.value)
                }
            } else {
                var index = lineStart
                while index < lineEnd {
                    let byte = bytes[index]
                    if byte < 0x80 {
                        var runEnd = index + 1
                        while runEnd < lineEnd, bytes[runEnd] < 0x80 { runEnd += 1 }
                        folder.consumeASCII(UnsafeBufferPointer(rebasing: bytes[index..<runEnd]))
                        index = runEnd
                    } else {
                        let (value, length) = UTF8Decoding.decode(bytes, at: index)
                        folder.consume(value)
                        index += length
                    }
                }
            }
            if lineEnd < count { folder.consumeASCII(0x0A) }
            lineStart = lineEnd + 1
            pending = lineStart
        }
        folder.appendASCII(UnsafeBufferPointer(rebasing: bytes[min(pending, count)..<count]))
        return (folder.out, folder.state.disguised)
    }

    /// Whitespace collapsing and, per word, whether it holds real ASCII letters and look-alikes folded to
    /// Latin (a disguise when both): the state `fold` carries from byte to byte over non-ASCII text.
    private struct WordState {
        var lastWasSpace = true
        var wordHasASCII = false
        var wordHasLookalike = false
        var invisibleAfterLetter = false
        var disguised = false

        /// Takes one ASCII byte; returns what to write (whitespace as one space), or nil for whitespace
        /// right after whitespace.
        @inline(__always)
        mutating func take(_ byte: UInt8) -> UInt8? {
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                let written: UInt8? = lastWasSpace ? nil : 0x20
                lastWasSpace = true
                wordHasASCII = false
                wordHasLookalike = false
                invisibleAfterLetter = false
                return written
            }
            lastWasSpace = false
            if UnicodeFolding.isASCIILetter(byte) {
                wordHasASCII = true
                if invisibleAfterLetter || wordHasLookalike { disguised = true }
            } else if byte < 0x30 || byte > 0x39 {
                // Punctuation ends a word: "α-helix" mixes scripts across words, not within one.
                wordHasASCII = false
                wordHasLookalike = false
            }
            invisibleAfterLetter = false
            return byte
        }
    }

    /// The state of `fold` over non-ASCII text: the output and the word state.
    private struct Folder {
        var out: [UInt8] = []
        var state = WordState()

        init(capacity: Int) { out.reserveCapacity(capacity) }

        /// Appends an ASCII run with whitespace collapsed, in one write into the output's storage.
        mutating func appendASCII(_ run: UnsafeBufferPointer<UInt8>) {
            guard !run.isEmpty else { return }
            let start = out.count
            // Copied in (a memcpy), then collapsed in place: the write cursor never passes the read one.
            out.append(contentsOf: run)
            var lastWasSpace = state.lastWasSpace
            let written = out.withUnsafeMutableBufferPointer { out in
                InjectionNormalizer.collapseWhitespace(
                    UnsafeBufferPointer(rebasing: out[start...]), into: out, at: start, lastWasSpace: &lastWasSpace)
            }
            out.removeLast(out.count - written)
            state.lastWasSpace = lastWasSpace
            // The run's last word decides the word state; a newline or the end of text follows.
            state.wordHasASCII = !lastWasSpace
            state.wordHasLookalike = false
            state.invisibleAfterLetter = false
        }

        /// `consumeASCII(_:)` for each byte of `run`, in one copy into the output's storage that is then
        /// compacted in place (the write cursor never passes the read one).
        mutating func consumeASCII(_ run: UnsafeBufferPointer<UInt8>) {
            guard !run.isEmpty else { return }
            let start = out.count
            out.append(contentsOf: run)
            var state = state
            let written = out.withUnsafeMutableBufferPointer { out in
                var written = start
                for read in start..<out.count {
                    if let byte = state.take(out[read]) {
                        out[written] = byte
                        written += 1
                    }
                }
                return written
            }
            out.removeLast(out.count - written)
            self.state = state
        }

        @inline(__always)
        mutating func consumeASCII(_ byte: UInt8) {
            if let written = state.take(byte) { out.append(written) }
        }

        mutating func consume(_ value: UInt32) {
            if value < 0x80 {
                consumeASCII(UInt8(value))
                return
            }
            if UnicodeFolding.isInvisible(value) {
                if let last = out.last, !state.lastWasSpace, UnicodeFolding.isASCIILetter(last) {
                    state.invisibleAfterLetter = true
                }
                return
            }
            if UnicodeFolding.isWhitespace(value) {
                consumeASCII(0x20)
                return
            }
            state.lastWasSpace = false
            if let latin = UnicodeFolding.latinLookalike(value) {
                state.wordHasLookalike = true
                if state.wordHasASCII || state.invisibleAfterLetter { state.disguised = true }
                state.invisibleAfterLetter = false
                out.append(latin)
            } else {
                state.invisibleAfterLetter = false
                guard let scalar = Unicode.Scalar(value) else {
                    out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    return
                }
                out.append(contentsOf: scalar.utf8)
            }
        }
    }

    /// Folds digits and symbols to letters inside words that already contain letters (`pr3v10u$`), leaving
    /// plain numbers alone. Returns nil when nothing changed, so the caller can skip a duplicate view.
    static func foldLeetspeak(_ text: [UInt8], one: UInt8 = UInt8(ascii: "i")) -> [UInt8]? {
        var changes: [Int] = []
        return foldLeetspeak(text, one: one, changes: &changes)
    }

    /// `foldLeetspeak`, appending the positions it changed (ascending) to `changes`.
    static func foldLeetspeak(_ text: [UInt8], one: UInt8, changes: inout [Int]) -> [UInt8]? {
        var out = text
        var changed = false
        leetTokenBytes.withUnsafeBufferPointer { tokenBytes in
        leetSymbolBytes.withUnsafeBufferPointer { symbolBytes in
        text.withUnsafeBufferPointer { text in
        func isLeetTokenByte(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }
        var index = 0
        let count = text.count
        while index < count {
            // Only a token holding a digit or symbol can change: skip to the next such byte (most
            // bytes are letters and spaces), then take the whole token around it. Tokens are maximal
            // runs of token bytes, so this visits exactly the tokens a walk over all of them would
            // rewrite, in the same order.
            var probe = index
            while probe < count, !symbolBytes[Int(text[probe])] { probe += 1 }
            guard probe < count else { break }
            index = probe
            while index > 0, isLeetTokenByte(text[index - 1]) { index -= 1 }
            var end = index
            var letters = 0
            var leet = 0
            while end < count, isLeetTokenByte(text[end]) {
                if UnicodeFolding.isASCIILetter(text[end]) { letters += 1 } else { leet += 1 }
                end += 1
            }
            if letters > 0 && leet > 0 {
                for position in index..<end where !UnicodeFolding.isASCIILetter(text[position]) {
                    // A trailing "!" or "|" is punctuation, not a letter.
                    let isTrailingMark = position == end - 1 && (text[position] == 0x21 || text[position] == 0x7C)
                    if !isTrailingMark, let letter = UnicodeFolding.leetLetter(text[position]) {
                        out[position] = text[position] == UInt8(ascii: "1") ? one : letter
                        changes.append(position)
                        changed = true
                    }
                }
            }
            index = end
        }
        }
        }
        }
        return changed ? out : nil
    }

    @inline(__always)
    private static func isLeetTokenByte(_ byte: UInt8) -> Bool {
        leetTokenBytes[Int(byte)]
    }

    /// The digits and symbols leetspeak reads as letters, as a table: the bytes that make a token change.
    private static let leetSymbolBytes: [Bool] = (0...255).map { value in
        !UnicodeFolding.isASCIILetter(UInt8(value)) && UnicodeFolding.leetLetter(UInt8(value)) != nil
    }

    /// Letters and the symbols leetspeak reads as letters, as a table: tested on every byte.
    private static let leetTokenBytes: [Bool] = (0...255).map { value in
        UnicodeFolding.isASCIILetter(UInt8(value)) || UnicodeFolding.leetLetter(UInt8(value)) != nil
    }

    /// Joins runs of three or more single letters separated by single spaces (`i g n o r e` -> `ignore`).
    static func joinSpacedLetters(_ text: [UInt8]) -> [UInt8]? {
        var changes: [Int] = []
        return joinSpacedLetters(text, changes: &changes)
    }

    /// `joinSpacedLetters`, appending the output positions of the joined runs to `changes`.
    static func joinSpacedLetters(_ text: [UInt8], changes: inout [Int]) -> [UInt8]? {
        // Cheap check first: a run needs three letters, each alone, separated by single spaces.
        let candidate = text.withUnsafeBufferPointer { text in
            let count = text.count
            var probe = 0
            while probe + 4 < count {
                // Bytes probe + 1 and probe + 3 must both be spaces: six probes are ruled out at once
                // when no two spaces two apart start in the six bytes from probe + 1.
                if ASCII.hasNoSpacePairTwoApart(in: text, at: probe + 1) {
                    probe += 6
                    continue
                }
                if text[probe + 1] == 0x20, text[probe + 3] == 0x20, UnicodeFolding.isASCIILetter(text[probe]),
                    UnicodeFolding.isASCIILetter(text[probe + 2]), UnicodeFolding.isASCIILetter(text[probe + 4]),
                    probe == 0 || !UnicodeFolding.isASCIILetter(text[probe - 1]),
                    probe + 5 >= count || !UnicodeFolding.isASCIILetter(text[probe + 5])
                {
                    return true
                }
                probe += 1
            }
            return false
        }
        guard candidate else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var changed = false
        var index = 0
        let count = text.count
        func isSingleLetter(at position: Int) -> Bool {
            guard position < count, UnicodeFolding.isASCIILetter(text[position]) else { return false }
            let beforeOK = position == 0 || !UnicodeFolding.isASCIILetter(text[position - 1])
            let afterOK = position + 1 >= count || !UnicodeFolding.isASCIILetter(text[position + 1])
            return beforeOK && afterOK
        }
        while index < count {
            if isSingleLetter(at: index) {
                var end = index
                var letters = 1
                while end + 2 < count, text[end + 1] == 0x20, isSingleLetter(at: end + 2) {
                    end += 2
                    letters += 1
                }
                if letters >= 3 {
                    var position = index
                    while position <= end {
                        changes.append(out.count)
                        out.append(text[position])
                        position += 2
                    }
                    changed = true
                    index = end + 1
                    continue
                }
            }
            out.append(text[index])
            index += 1
        }
        return changed ? out : nil
    }

    /// Removes a single `-`, `_` or `.` between two letters (`ign-ore prev.ious` -> `ignore previous`).
    /// Returns nil when nothing changed.
    static func joinSplitWords(_ text: [UInt8]) -> [UInt8]? {
        var changes: [Int] = []
        return joinSplitWords(text, changes: &changes)
    }

    /// `joinSplitWords`, appending the output positions where a separator was removed to `changes`.
    static func joinSplitWords(_ text: [UInt8], changes: inout [Int]) -> [UInt8]? {
        let count = text.count
        guard count >= 3 else { return nil }
        // Find the first separator before copying anything: most text has none worth a copy.
        guard let first = firstSeparatorBetweenLetters(text) else { return nil }
        return [UInt8](unsafeUninitializedCapacity: count) { out, written in
            text.withUnsafeBufferPointer { text in
                _ = out.initialize(from: UnsafeBufferPointer(rebasing: text[0..<first]))
                written = first
                var index = first
                while index < count {
                    if let separators = ASCII.separatorBits(in: text, at: index), let base = out.baseAddress,
                        let source = UnsafeRawPointer(text.baseAddress)
                    {
                        // The bytes before the first separator of these eight are copied as they are
                        // (all eight are stored; the ones past it are overwritten next).
                        let plain = separators == 0 ? 8 : separators.trailingZeroBitCount >> 3
                        if plain > 0 {
                            let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                            UnsafeMutableRawPointer(base + written).storeBytes(of: word, as: UInt64.self)
                            written += plain
                            index += plain
                            continue
                        }
                    }
                    let byte = text[index]
                    if byte == 0x2D || byte == 0x5F || byte == 0x2E, index > 0, index + 1 < count,
                        UnicodeFolding.isASCIILetter(text[index - 1]), UnicodeFolding.isASCIILetter(text[index + 1])
                    {
                        changes.append(written)
                    } else {
                        out[written] = byte
                        written += 1
                    }
                    index += 1
                }
            }
        }
    }

    /// `compact(text)` where `text` is `original` with some bytes rewritten in place (same length),
    /// appending the output positions of rewritten letters to `changes`.
    static func compact(_ text: [UInt8], changedFrom original: [UInt8], changes: inout [Int]) -> [UInt8] {
        let count = text.count
        return [UInt8](unsafeUninitializedCapacity: count) { out, written in
            text.withUnsafeBufferPointer { text in
                original.withUnsafeBufferPointer { original in
                    let compared = min(count, original.count)
                    var kept = 0
                    var position = 0
                    // Rewritten bytes are rare: eight bytes equal to the original's are compacted without
                    // a comparison each.
                    while position + 8 <= compared {
                        let now = UnsafeRawPointer(text.baseAddress! + position).loadUnaligned(as: UInt64.self)
                        let before = UnsafeRawPointer(original.baseAddress! + position).loadUnaligned(as: UInt64.self)
                        if now == before {
                            for offset in position..<(position + 8) { keep(text[offset], into: out, at: &kept) }
                        } else {
                            for offset in position..<(position + 8) {
                                let byte = text[offset]
                                if original[offset] != byte, isASCIILetter(byte) { changes.append(kept) }
                                keep(byte, into: out, at: &kept)
                            }
                        }
                        position += 8
                    }
                    while position < count {
                        let byte = text[position]
                        if position < compared, original[position] != byte, isASCIILetter(byte) { changes.append(kept) }
                        keep(byte, into: out, at: &kept)
                        position += 1
                    }
                    written = kept
                }
            }
        }
    }

    /// `bytes` without the bytes at `positions` (ascending, distinct, in range), copied run by run.
    static func removing(_ positions: [Int], from bytes: [UInt8]) -> [UInt8] {
        guard !positions.isEmpty else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count - positions.count)
        var start = 0
        for position in positions {
            result.append(contentsOf: bytes[start..<position])
            start = position + 1
        }
        result.append(contentsOf: bytes[start...])
        return result
    }

    /// Letters only, ASCII lowercased; non-ASCII bytes are kept so accented words still match.
    static func compact(_ text: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: text.count) { out, written in
            var kept = 0
            text.withUnsafeBufferPointer { text in
                for byte in text { keep(byte, into: out, at: &kept) }
            }
            written = kept
        }
    }

    /// Writes `byte` (lowercased when ASCII) at `kept` and moves past it when it is a letter or
    /// non-ASCII. Branch-free: letters and other bytes interleave too irregularly to predict.
    @inline(__always)
    private static func keep(_ byte: UInt8, into out: UnsafeMutableBufferPointer<UInt8>, at kept: inout Int) {
        let isASCII = byte < 0x80
        // Letters: `byte | 0x20` in a...z (never so for bytes from 0x80 on).
        let letter = (byte | 0x20) &- 0x61 < 26 ? 1 : 0
        out[kept] = isASCII ? byte | 0x20 : byte
        kept &+= letter | (isASCII ? 0 : 1)
    }

    @inline(__always)
    private static func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    /// The text with each single `-`, `_` or `.` between two letters replaced by a space (same length),
    /// appending the replaced positions to `changes`; nil when there is none.
    static func separatorsAsSpaces(_ text: [UInt8], changes: inout [Int]) -> [UInt8]? {
        guard let first = firstSeparatorBetweenLetters(text) else { return nil }
        var out = text
        text.withUnsafeBufferPointer { text in
            out.withUnsafeMutableBufferPointer { out in
                forEachSeparatorBetweenLetters(text, from: first) { index in
                    out[index] = 0x20
                    changes.append(index)
                    return true
                }
            }
        }
        return out
    }

    /// Whether `text[index]` is a `-`, `_` or `.` with an ASCII letter on each side (`index` must
    /// have a byte before and after it).
    @inline(__always)
    private static func isSeparatorBetweenLetters(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let byte = text[index]
        return (byte == 0x2D || byte == 0x5F || byte == 0x2E) && UnicodeFolding.isASCIILetter(text[index - 1])
            && UnicodeFolding.isASCIILetter(text[index + 1])
    }

    /// Calls `body` with each position from `start` on that holds a `-`, `_` or `.` between two ASCII
    /// letters, in order, until it returns false. Eight bytes are tested at once, and the scan jumps
    /// straight to the first separator among them or past all eight.
    @inline(__always)
    private static func forEachSeparatorBetweenLetters(
        _ text: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (Int) -> Bool
    ) {
        let count = text.count
        var index = max(start, 1)
        while index < count - 1 {
            if index + 8 <= count - 1, let separators = ASCII.separatorBits(in: text, at: index) {
                let plain = separators == 0 ? 8 : separators.trailingZeroBitCount >> 3
                if plain > 0 {
                    index += plain
                    continue
                }
            }
            if isSeparatorBetweenLetters(text, at: index), !body(index) { return }
            index += 1
        }
    }

    /// The position of the first `-`, `_` or `.` between two ASCII letters, if any.
    static func firstSeparatorBetweenLetters(_ text: [UInt8]) -> Int? {
        var first: Int?
        text.withUnsafeBufferPointer { text in
            forEachSeparatorBetweenLetters(text, from: 1) { index in
                first = index
                return false
            }
        }
        return first
    }

    /// `text` when somewhere in it letters are split the way `isSplit` recognises, else nil: most plain
    /// text has no split at all, and then no letters-only match in it can count as disguised.
    static func withSplitEvidence(_ text: [UInt8]) -> [UInt8]? {
        let count = text.count
        guard count >= 3 else { return nil }
        for index in 1..<(count - 1) {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "/"),
                UInt8(ascii: "|"), UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: "+"), UInt8(ascii: "="),
                UInt8(ascii: "`"):
                if isLetterByte(text[index - 1]), isLetterByte(text[index + 1]) { return text }
            case 0x20:
                // "x y": a single letter, a space, a single letter.
                if isLetterByte(text[index - 1]), isLetterByte(text[index + 1]),
                    index < 2 || !isLetterByte(text[index - 2]),
                    index + 2 >= count || !isLetterByte(text[index + 2])
                {
                    return text
                }
            default:
                continue
            }
        }
        return nil
    }

    private static func isLetterByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || UnicodeFolding.isASCIILetter(byte)
    }

    /// Whether the letters `compact[range]` were split in `source` (the text the compact view was built
    /// from): punctuation between two letters (`ign-ore`, `in_struc.tions`) or two single letters in a row
    /// (`i g n o r e`). Only called after a match, so the linear walk is rare.
    static func isSplit(_ range: Range<Int>, compact: [UInt8], source: [UInt8]) -> Bool {
        var letters = 0
        var index = 0
        // Find the source position of compact byte `range.lowerBound`.
        while index < source.count, letters < range.lowerBound {
            if source[index] >= 0x80 || UnicodeFolding.isASCIILetter(source[index]) { letters += 1 }
            index += 1
        }
        var previousWordLength = -1
        var wordLength = 0
        var lastWasLetter = false
        var pendingPunctuation = false
        while index < source.count, letters < range.upperBound {
            let byte = source[index]
            index += 1
            if byte >= 0x80 || UnicodeFolding.isASCIILetter(byte) {
                if pendingPunctuation { return true }
                letters += 1
                wordLength += 1
                lastWasLetter = true
                continue
            }
            if byte == 0x20 {
                if wordLength == 1 && previousWordLength == 1 { return true }
                if wordLength > 0 { previousWordLength = wordLength }
                wordLength = 0
                pendingPunctuation = false
            } else {
                switch byte {
                case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "/"),
                    UInt8(ascii: "|"), UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: "+"), UInt8(ascii: "="),
                    UInt8(ascii: "`"):
                    pendingPunctuation = lastWasLetter
                default:
                    pendingPunctuation = false
                }
            }
            lastWasLetter = false
        }
        return wordLength == 1 && previousWordLength == 1
    }

    // MARK: decoding

    private func decodedSegments(of folded: [UInt8], original: String, budget: inout Int) -> [String] {
        var segments: [String] = []
        if let url = Self.percentDecoded(folded), budget > 0 {
            budget -= url.utf8.count
            segments.append(url)
        }
        var copy = original
        copy.withUTF8 { bytes in
            let runs = Self.base64Runs(in: bytes, minimumLength: minimumBase64Run)
            for run in runs {
                guard budget > 0 else { break }
                if let decoded = Self.base64Text(UnsafeBufferPointer(rebasing: bytes[run])) {
                    budget -= decoded.utf8.count
                    segments.append(decoded)
                }
            }
            for decoded in HexSegments.decodedTexts(in: bytes, base64Runs: runs) {
                guard budget > 0 else { break }
                budget -= decoded.utf8.count
                segments.append(decoded)
            }
        }
        return segments
    }

    /// The text with `%XX` escapes decoded, when it has at least two of them and decodes to valid UTF-8.
    static func percentDecoded(_ text: [UInt8]) -> String? {
        // Most text has no escape at all: count them (memchr for `%`) before copying anything.
        let found = text.withUnsafeBufferPointer { buffer in
            var found = 0
            var probe = 0
            while found < 2, let percent = PIIGate.firstIndex(of: 0x25, in: buffer, from: probe) {
                if percent + 2 < buffer.count, HexSegments.digitValue(buffer[percent + 1]) != nil, HexSegments.digitValue(buffer[percent + 2]) != nil {
                    found += 1
                }
                probe = percent + 1
            }
            return found
        }
        guard found >= 2 else { return nil }
        var escapes = 0
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == 0x25, index + 2 < text.count, let high = HexSegments.digitValue(text[index + 1]),
                let low = HexSegments.digitValue(text[index + 2])
            {
                out.append(high << 4 | low)
                escapes += 1
                index += 3
            } else {
                out.append(text[index] == 0x2B ? 0x20 : text[index])
                index += 1
            }
        }
        guard escapes >= 2 else { return nil }
        return String(validating: out, as: UTF8.self)
    }

    /// Maximal runs of base64 alphabet characters (standard or URL-safe), with their padding.
    static func base64Runs(in bytes: [UInt8], minimumLength: Int) -> [ArraySlice<UInt8>] {
        bytes.withUnsafeBufferPointer { buffer in
            base64Runs(in: buffer, minimumLength: minimumLength)
        }.map { bytes[$0] }
    }

    /// `base64Runs` over UTF-8 in place (a message's own storage, not a copy), as byte ranges.
    static func base64Runs(in bytes: UnsafeBufferPointer<UInt8>, minimumLength: Int) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        base64Alphabet.withUnsafeBufferPointer { alphabet in
            let count = bytes.count
            var index = 0
            let reach = max(minimumLength, 1) - 1
            while index < count {
                // A run long enough to count that starts in index...index + reach covers index + reach:
                // when that byte can be in no run (not base64, not padding), none starts there.
                if index + reach < count, !alphabet[Int(bytes[index + reach])], bytes[index + reach] != 0x3D {
                    index += reach + 1
                    continue
                }
                guard alphabet[Int(bytes[index])] else {
                    index += 1
                    continue
                }
                var end = index + 1
                while end < count, alphabet[Int(bytes[end])] { end += 1 }
                let runEnd = end
                while end < count, bytes[end] == 0x3D { end += 1 }
                // Plain words are base64-alphabet too; real payloads mix cases or digits. Most runs
                // are short words, so the classes are only looked at in runs long enough to count.
                if end - index >= minimumLength {
                    var hasDigitOrUpper = false
                    var hasLower = false
                    for position in index..<runEnd {
                        let byte = bytes[position]
                        if byte >= 0x61 && byte <= 0x7A { hasLower = true } else { hasDigitOrUpper = true }
                    }
                    if hasLower, hasDigitOrUpper { spans.append(index..<end) }
                }
                index = end
            }
        }
        return spans
    }

    /// Standard and URL-safe base64 characters, as a table: this test runs on every byte of a message.
    private static let base64Alphabet: [Bool] = (0...255).map { value in
        let byte = UInt8(value)
        return UnicodeFolding.isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F
            || byte == 0x2D || byte == 0x5F
    }

    /// Decodes a base64 run to text when the result is valid UTF-8 and mostly printable.
    static func base64Text(_ run: ArraySlice<UInt8>) -> String? {
        run.withUnsafeBufferPointer { base64Text($0) }
    }

    /// `base64Text` over a run in place.
    static func base64Text(_ run: UnsafeBufferPointer<UInt8>) -> String? {
        // Most runs are identifiers, paths or keys whose bytes hold no space, and such a run is rejected
        // at the end anyway: a table decode proves that before any copy or Foundation call.
        guard Base64Probe.decodesToSpace(run) else { return nil }
        var normalized = run.filter { $0 != 0x3D }.map { byte -> UInt8 in
            switch byte {
            case 0x2D: return 0x2B
            case 0x5F: return 0x2F
            default: return byte
            }
        }
        // Truncated payloads are common in pasted text: decode the whole quanta that are there.
        normalized.removeLast(normalized.count % 4 == 1 ? 1 : 0)
        while normalized.count % 4 != 0 { normalized.append(0x3D) }
        guard let data = Data(base64Encoded: Data(normalized)) else { return nil }
        var bytes = [UInt8](data)
        // A cut-off multi-byte character at the end is not a reason to reject the whole payload.
        var trimmed = 0
        while trimmed < 3, let last = bytes.last, last >= 0x80, String(validating: bytes, as: UTF8.self) == nil {
            bytes.removeLast()
            trimmed += 1
        }
        guard let text = String(validating: bytes, as: UTF8.self), DecodedText.isReadable(text) else { return nil }
        return text
    }
}
