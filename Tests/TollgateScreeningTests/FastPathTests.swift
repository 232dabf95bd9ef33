import Foundation
import Testing

@testable import TollgateScreening

/// The word-at-a-time scans, branch-free copies and early rejections in the normalizers must give
/// exactly what the plain byte-by-byte definitions give: screening output may not change by a byte.

/// A small deterministic generator, so a failure reproduces.
private struct SeededBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(below bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }

    /// Bytes drawn from `alphabet`.
    mutating func bytes(_ count: Int, from alphabet: [UInt8]) -> [UInt8] {
        (0..<count).map { _ in alphabet[next(below: alphabet.count)] }
    }
}

/// Letters, digits, leetspeak symbols, separators, whitespace and a non-ASCII byte.
private let mixedAlphabet: [UInt8] = Array("aEt1l0o3s$5@|!+-_. \n\t7x".utf8) + [0xC3]

@Test func wordAtATimeTestsAgreeWithByteLoops() {
    var random = SeededBytes(seed: 7)
    for _ in 0..<2000 {
        let bytes = random.bytes(8 + random.next(below: 4), from: mixedAlphabet)
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<buffer.count {
                let word = index + 8 <= buffer.count ? Array(buffer[index..<(index + 8)]) : nil
                let ascii = word.map { $0.allSatisfy { $0 < 0x80 } } ?? false
                #expect(ASCII.isASCIIWord(in: buffer, at: index) == ascii)
                #expect(ASCII.isPlainWord(in: buffer, at: index) == (ascii && !(word?.contains(0x0A) ?? true)))
                let digitFree = word.map { !$0.contains { $0 >= 0x30 && $0 <= 0x39 } } ?? false
                #expect(ASCII.isDigitFreeWord(in: buffer, at: index) == digitFree)
                let separators = word.map { bytes in
                    bytes.enumerated().reduce(UInt64(0)) { mask, element in
                        let isSeparator = element.element == 0x2D || element.element == 0x5F || element.element == 0x2E
                        return isSeparator ? mask | 0x80 << (8 * UInt64(element.offset)) : mask
                    }
                }
                #expect(ASCII.separatorBits(in: buffer, at: index) == separators)
            }
        }
    }
}

@Test func base64ProbeRejectsOnlyRunsWithoutADecodedSpace() {
    var random = SeededBytes(seed: 11)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".utf8)
    var accepted = 0
    for round in 0..<3000 {
        var run: [UInt8]
        if round % 3 == 0 {
            // Real text, encoded (sometimes URL-safe, sometimes cut short).
            let text = String(decoding: random.bytes(12 + random.next(below: 30), from: mixedAlphabet.dropLast()), as: UTF8.self)
            run = Array(Data(text.utf8).base64EncodedString().utf8)
            if round % 2 == 0 { run = run.map { $0 == 0x2B ? 0x2D : $0 == 0x2F ? 0x5F : $0 } }
            run.removeLast(random.next(below: 3))
        } else {
            run = random.bytes(16 + random.next(below: 40), from: alphabet)
        }
        let probe = run.withUnsafeBufferPointer { Base64Probe.decodesToSpace($0) }
        let decoded = InjectionNormalizer.base64Text(run[...])
        if decoded != nil {
            accepted += 1
            #expect(probe, "the probe rejected a run that decodes to text: \(String(decoding: run, as: UTF8.self))")
        }
    }
    #expect(accepted > 100)
}

/// `foldLeetspeak` as first written: every maximal token walked, each rewritten when it mixes letters
/// and leetspeak symbols.
private func referenceLeetspeak(_ text: [UInt8], one: UInt8) -> (bytes: [UInt8], changes: [Int])? {
    func isToken(_ byte: UInt8) -> Bool { UnicodeFolding.isASCIILetter(byte) || UnicodeFolding.leetLetter(byte) != nil }
    var out = text
    var changes: [Int] = []
    var index = 0
    while index < text.count {
        guard isToken(text[index]) else {
            index += 1
            continue
        }
        var end = index
        var letters = 0
        var leet = 0
        while end < text.count, isToken(text[end]) {
            if UnicodeFolding.isASCIILetter(text[end]) { letters += 1 } else { leet += 1 }
            end += 1
        }
        if letters > 0, leet > 0 {
            for position in index..<end where !UnicodeFolding.isASCIILetter(text[position]) {
                let isTrailingMark = position == end - 1 && (text[position] == 0x21 || text[position] == 0x7C)
                if !isTrailingMark, let letter = UnicodeFolding.leetLetter(text[position]) {
                    out[position] = text[position] == UInt8(ascii: "1") ? one : letter
                    changes.append(position)
                }
            }
        }
        index = end
    }
    return changes.isEmpty ? nil : (out, changes)
}

@Test func leetspeakFoldSkippingToSymbolsMatchesTheTokenWalk() {
    var random = SeededBytes(seed: 13)
    for _ in 0..<3000 {
        let text = random.bytes(random.next(below: 40), from: mixedAlphabet)
        var changes: [Int] = []
        let folded = InjectionNormalizer.foldLeetspeak(text, one: UInt8(ascii: "i"), changes: &changes)
        let reference = referenceLeetspeak(text, one: UInt8(ascii: "i"))
        #expect(folded == reference?.bytes)
        #expect(changes == (reference?.changes ?? []))
    }
}

@Test func branchFreeCompactionKeepsLettersAndNonASCIIAndRecordsRewrites() {
    var random = SeededBytes(seed: 17)
    for _ in 0..<2000 {
        let original = random.bytes(random.next(below: 50), from: mixedAlphabet)
        var text = original
        for index in text.indices where random.next(below: 6) == 0 { text[index] = UInt8(ascii: "q") }
        var changes: [Int] = []
        let compacted = InjectionNormalizer.compact(text, changedFrom: original, changes: &changes)
        var expected: [UInt8] = []
        var expectedChanges: [Int] = []
        for (position, byte) in text.enumerated() {
            if byte >= 0x80 {
                expected.append(byte)
            } else if UnicodeFolding.isASCIILetter(byte) {
                if original[position] != byte { expectedChanges.append(expected.count) }
                expected.append(byte | 0x20)
            }
        }
        #expect(compacted == expected)
        #expect(changes == expectedChanges)
    }
}

@Test func foldCollapsesWhitespaceAndKeepsTheDisguiseVerdictOfTheByteWalk() {
    var random = SeededBytes(seed: 19)
    // Homoglyphs, an invisible joiner and a full-width letter among ASCII, so the non-ASCII line path runs.
    let pieces = ["a", "b", "1", " ", "  ", "\n", "\t", "-", ".", "е", "о", "\u{200B}", "Ａ", "é", "word", "x y"]
    for _ in 0..<2000 {
        let text = (0..<random.next(below: 12)).map { _ in pieces[random.next(below: pieces.count)] }.joined()
        var disguised = false
        let folded = InjectionNormalizer.fold(text, disguised: &disguised)
        // The per-scalar definition: NFKC, then the folder's rules one scalar at a time.
        var referenceDisguised = false
        let reference = referenceFold(text, disguised: &referenceDisguised)
        #expect(folded == reference, "\(text.debugDescription)")
        #expect(disguised == referenceDisguised, "\(text.debugDescription)")
    }
}

/// `fold` written scalar by scalar, without the ASCII fast paths.
private func referenceFold(_ text: String, disguised: inout Bool) -> [UInt8] {
    var out: [UInt8] = []
    var lastWasSpace = true
    var wordHasASCII = false
    var wordHasLookalike = false
    var invisibleAfterLetter = false
    func space() {
        if !lastWasSpace { out.append(0x20) }
        lastWasSpace = true
        wordHasASCII = false
        wordHasLookalike = false
        invisibleAfterLetter = false
    }
    for scalar in text.unicodeScalars {
        if scalar.value >= 0xFF21 && scalar.value <= 0xFF5A { disguised = true }
    }
    for scalar in text.precomposedStringWithCompatibilityMapping.unicodeScalars {
        let value = scalar.value
        if value < 0x80 {
            let byte = UInt8(value)
            if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                space()
                continue
            }
            lastWasSpace = false
            if UnicodeFolding.isASCIILetter(byte) {
                wordHasASCII = true
                if invisibleAfterLetter || wordHasLookalike { disguised = true }
            } else if byte < 0x30 || byte > 0x39 {
                wordHasASCII = false
                wordHasLookalike = false
            }
            invisibleAfterLetter = false
            out.append(byte)
        } else if UnicodeFolding.isInvisible(value) {
            if let last = out.last, !lastWasSpace, UnicodeFolding.isASCIILetter(last) { invisibleAfterLetter = true }
        } else if UnicodeFolding.isWhitespace(value) {
            space()
        } else if let latin = UnicodeFolding.latinLookalike(value) {
            lastWasSpace = false
            wordHasLookalike = true
            if wordHasASCII || invisibleAfterLetter { disguised = true }
            invisibleAfterLetter = false
            out.append(latin)
        } else {
            lastWasSpace = false
            invisibleAfterLetter = false
            out.append(contentsOf: scalar.utf8)
        }
    }
    return out
}

@Test func literalSearchByItsRarestByteFindsEveryOccurrenceInOrder() {
    var random = SeededBytes(seed: 23)
    let literals: [[UInt8]] = ["sk-", "-ai", "gpt", "===", "a_b", "-----BEGIN ", "xoxb-", "k_live_"].map { Array($0.utf8) }
    let alphabet = Array("sSkK-aAiIgGpPtT=_bBxXoOlLvVeE -BEGIN".utf8)
    for _ in 0..<3000 {
        let text = random.bytes(random.next(below: 60), from: alphabet)
        var expected: [Range<Int>] = []
        for literal in literals where literal.count <= text.count {
            for start in 0...(text.count - literal.count) {
                let matches = literal.indices.allSatisfy { index in
                    let byte = text[start + index]
                    let wanted = literal[index]
                    return byte == wanted || (UnicodeFolding.isASCIILetter(wanted) && byte | 0x20 == wanted | 0x20)
                }
                if matches { expected.append(start..<(start + literal.count)) }
            }
        }
        expected.sort { $0.lowerBound < $1.lowerBound }
        text.withUnsafeBufferPointer { buffer in
            #expect(PIIGate.occurrences(of: literals, in: buffer) == expected)
            for literal in literals {
                let exact = text.count >= literal.count
                    && (0...(text.count - literal.count)).contains { Array(text[$0..<($0 + literal.count)]) == literal }
                let pairs = BytePairs(buffer)
                #expect(PIIGate.containsAny([literal], in: buffer, caseless: false, pairs: pairs) == exact)
            }
        }
    }
}

@Test func base64RunScanSkippingAheadFindsTheRunsOfTheByteScan() {
    var random = SeededBytes(seed: 29)
    let alphabet = Array("aB3+/_-= =\n.xY9".utf8)
    func isBase64(_ byte: UInt8) -> Bool {
        UnicodeFolding.isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F
            || byte == 0x2D || byte == 0x5F
    }
    for _ in 0..<3000 {
        // Long stretches without a break, so runs of every length around the minimum occur.
        let text = random.bytes(random.next(below: 300), from: random.next(below: 2) == 0 ? alphabet : Array(alphabet.prefix(7)))
        let minimum = 1 + random.next(below: 20)
        var expected: [Range<Int>] = []
        var index = 0
        while index < text.count {
            guard isBase64(text[index]) else {
                index += 1
                continue
            }
            var end = index + 1
            while end < text.count, isBase64(text[end]) { end += 1 }
            let runEnd = end
            while end < text.count, text[end] == 0x3D { end += 1 }
            let run = text[index..<runEnd]
            if end - index >= minimum, run.contains(where: { $0 >= 0x61 && $0 <= 0x7A }),
                run.contains(where: { !($0 >= 0x61 && $0 <= 0x7A) })
            {
                expected.append(index..<end)
            }
            index = end
        }
        let found = text.withUnsafeBufferPointer { InjectionNormalizer.base64Runs(in: $0, minimumLength: minimum) }
        #expect(found == expected)
    }
}

@Test func spacePairScanAgreesWithAByteLoop() {
    var random = SeededBytes(seed: 31)
    for _ in 0..<3000 {
        let bytes = random.bytes(8 + random.next(below: 4), from: Array("a  b\n c.".utf8) + [0xA0])
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<buffer.count {
                let expected = index + 8 <= buffer.count
                    ? !(0..<6).contains { buffer[index + $0] == 0x20 && buffer[index + $0 + 2] == 0x20 } : false
                #expect(ASCII.hasNoSpacePairTwoApart(in: buffer, at: index) == expected)
            }
        }
    }
}

@Test func spacedLetterJoinFindsRunsAcrossEveryAlignment() {
    var random = SeededBytes(seed: 37)
    for _ in 0..<3000 {
        let text = random.bytes(random.next(below: 40), from: Array("ab  c.d e\nxy".utf8))
        var changes: [Int] = []
        let joined = InjectionNormalizer.joinSpacedLetters(text, changes: &changes)
        // Reference: a run of three or more single letters separated by single spaces anywhere.
        func isSingleLetter(_ position: Int) -> Bool {
            guard position >= 0, position < text.count, UnicodeFolding.isASCIILetter(text[position]) else { return false }
            return (position == 0 || !UnicodeFolding.isASCIILetter(text[position - 1]))
                && (position + 1 >= text.count || !UnicodeFolding.isASCIILetter(text[position + 1]))
        }
        let hasRun = text.indices.contains { start in
            isSingleLetter(start) && start + 4 < text.count && text[start + 1] == 0x20 && isSingleLetter(start + 2)
                && text[start + 3] == 0x20 && isSingleLetter(start + 4)
        }
        #expect((joined != nil) == hasRun, "\(String(decoding: text, as: UTF8.self).debugDescription)")
    }
}

@Test func plainLettersOnlyViewIsTheLeetspeakOneWithoutItsGainedLetters() {
    var random = SeededBytes(seed: 23)
    for _ in 0..<3000 {
        let text = random.bytes(random.next(below: 60), from: mixedAlphabet)
        var changes: [Int] = []
        guard let deleeted = InjectionNormalizer.foldLeetspeak(text, one: UInt8(ascii: "i"), changes: &changes) else {
            continue
        }
        var gained: [Int] = []
        let letters = InjectionNormalizer.compact(deleeted, changedFrom: text, changes: &gained)
        #expect(InjectionNormalizer.removing(gained, from: letters) == InjectionNormalizer.compact(text))
    }
}

@Test func wordAtATimeWhitespaceCollapseAgreesWithAByteLoop() {
    var random = SeededBytes(seed: 29)
    let alphabet: [UInt8] = Array("ab. -\n\t\r\u{0B}\u{0C}  zZ9".utf8)
    for _ in 0..<3000 {
        let bytes = random.bytes(random.next(below: 70), from: alphabet)
        let startsAfterSpace = random.next(below: 2) == 0
        var expected: [UInt8] = []
        var previousWasSpace = startsAfterSpace
        for byte in bytes {
            let isSpace = byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
            if !(isSpace && previousWasSpace) { expected.append(isSpace ? 0x20 : byte) }
            previousWasSpace = isSpace
        }
        // Into a separate buffer, after a prefix.
        var out = [UInt8](repeating: 0, count: bytes.count + 3)
        var lastWasSpace = startsAfterSpace
        let end = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer {
                InjectionNormalizer.collapseWhitespace(input, into: $0, at: 3, lastWasSpace: &lastWasSpace)
            }
        }
        #expect(Array(out[3..<end]) == expected)
        #expect(lastWasSpace == previousWasSpace)
        // In place, as the folder does.
        var inPlace = [UInt8](repeating: 7, count: 2) + bytes
        var inPlaceSpace = startsAfterSpace
        let inPlaceEnd = inPlace.withUnsafeMutableBufferPointer { buffer in
            InjectionNormalizer.collapseWhitespace(
                UnsafeBufferPointer(rebasing: buffer[2...]), into: buffer, at: 2, lastWasSpace: &inPlaceSpace)
        }
        #expect(Array(inPlace[2..<inPlaceEnd]) == expected)
    }
}

@Test func wordByteBitsMarkLettersDigitsAndNonASCII() {
    var random = SeededBytes(seed: 31)
    for _ in 0..<5000 {
        let bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
        let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        var expected: UInt64 = 0
        for (index, byte) in bytes.enumerated() where UnicodeFolding.isASCIILetter(byte) || (0x30...0x39).contains(byte) || byte >= 0x80 {
            expected |= 1 << UInt64(index)
        }
        #expect(ASCII.wordByteBits(word) == expected)
    }
}

@Test func literalOccurrencesDerivedFromTheBaseMatchAFreshScan() {
    var random = SeededBytes(seed: 37)
    let literals: [[UInt8]] = [Array("gpt".utf8), Array("-ai".utf8), Array("===".utf8)]
    let alphabet: [UInt8] = Array("gGpPtT-aAiI= x".utf8)
    for _ in 0..<3000 {
        let base = random.bytes(random.next(below: 40), from: alphabet)
        var rewritten = base
        var changes: [Int] = []
        for index in rewritten.indices where random.next(below: 5) == 0 {
            let byte = alphabet[random.next(below: alphabet.count)]
            guard byte != rewritten[index] else { continue }
            rewritten[index] = byte
            changes.append(index)
        }
        let inBase = base.withUnsafeBufferPointer { PIIGate.occurrences(of: literals, in: $0) }
        let derived = rewritten.withUnsafeBufferPointer {
            LiteralOccurrences.derived(from: inBase, rewrittenAt: changes, in: $0, literals: literals)
        }
        let fresh = rewritten.withUnsafeBufferPointer { PIIGate.occurrences(of: literals, in: $0) }
        #expect(derived == fresh, "\(String(decoding: base, as: UTF8.self)) -> \(String(decoding: rewritten, as: UTF8.self))")
    }
}

@Test func ipv6ValidationAcceptsAddressesAndRejectsClockTimesAndOverlongText() {
    func valid(_ text: String) -> Bool { PIIValidation.isIPv6(ArraySlice(text.utf8)) }
    #expect(valid("2001:db8::1"))
    #expect(valid("::ffff:192.0.2.1"))
    #expect(valid("fe80:0000:0000:0000:0204:61ff:fe9d:f156"))
    #expect(!valid("12:00:13"))
    #expect(!valid("::"))
    #expect(!valid(String(repeating: "a:", count: 30)))
}
