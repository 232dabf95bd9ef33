/// The text PII patterns run over, with a map from its bytes back to the original string.
///
/// Only changes that keep entities recognisable are made: invisible characters are dropped and
/// full-width forms and exotic spaces/dashes become ASCII, so `ｊｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` or a card
/// number with zero-width joiners is still found. No case, homoglyph or leetspeak folding happens here:
/// those would change digits and letters that make up the entity.
///
/// Built in one pass over the UTF-8 bytes. Rewrites are rare, so the map back is a short list of
/// `Edit`s (bytes between two edits map one to one) instead of an array entry per byte: a 100 KB
/// message costs one copy, not half a megabyte of offset tables.
struct PIIView {
    /// One rewritten scalar: original bytes `original` became view bytes `view` (empty when dropped).
    struct Edit {
        let view: Range<Int>
        let original: Range<Int>
    }

    let bytes: [UInt8]
    /// The original UTF-8 when it differs from `bytes` (some edit was made), for counting code points.
    private let original: [UInt8]?
    /// Ascending by view (and original) position.
    private let edits: [Edit]
    /// Whether the original text is ASCII: then byte offsets are code-point offsets.
    private let isASCII: Bool

    init(_ text: String) {
        var copy = text
        let built = copy.withUTF8 { Self.build($0) }
        bytes = built.bytes
        edits = built.edits
        original = built.edits.isEmpty ? nil : Array(text.utf8)
        isASCII = built.isASCII
    }

    private static func build(_ source: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], edits: [Edit], isASCII: Bool) {
        let count = source.count
        var out: [UInt8] = []
        var edits: [Edit] = []
        var copied = 0  // source bytes [0, copied) are already in `out` (only once an edit happened)
        var isASCII = true
        var index = 0
        while index < count {
            if ASCII.isASCIIWord(in: source, at: index) {
                index += 8
                continue
            }
            let lead = source[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            isASCII = false
            let (value, length) = UTF8Decoding.decode(source, at: index)
            let mapped: UInt8?
            let drop: Bool
            if UnicodeFolding.isInvisible(value) {
                mapped = nil
                drop = true
            } else {
                mapped = Self.asciiReplacement(value)
                drop = false
            }
            if drop || mapped != nil {
                if edits.isEmpty {
                    out.reserveCapacity(count)
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: source[copied..<index]))
                let viewStart = out.count
                if let mapped { out.append(mapped) }
                edits.append(Edit(view: viewStart..<out.count, original: index..<(index + length)))
                copied = index + length
            }
            index += length
        }
        if edits.isEmpty { return (Array(source), [], isASCII) }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: source[copied..<count]))
        return (out, edits, isASCII)
    }

    /// The ASCII stand-in for full-width forms and exotic spaces and dashes, nil for anything else.
    private static func asciiReplacement(_ value: UInt32) -> UInt8? {
        switch value {
        case 0xFF01...0xFF5E: return UInt8(value - 0xFF01 + 0x21)
        case 0x3000, 0x00A0, 0x2000...0x200A, 0x202F, 0x205F: return 0x20
        case 0x2010...0x2015, 0x2212, 0xFE63: return 0x2D
        default: return nil
        }
    }

    /// Original UTF-8 offset of the character that view byte `position` (a character start) came from.
    private func originalStart(ofByte position: Int) -> Int {
        guard let edit = lastEdit(startingAtOrBefore: position) else { return position }
        if edit.view.contains(position) { return edit.original.lowerBound }
        return position - edit.view.upperBound + edit.original.upperBound
    }

    /// Original UTF-8 offset just past the character that view byte `position` belongs to.
    private func originalEnd(ofByte position: Int) -> Int {
        guard let edit = lastEdit(startingAtOrBefore: position) else { return position + 1 }
        if edit.view.contains(position) { return edit.original.upperBound }
        return position - edit.view.upperBound + edit.original.upperBound + 1
    }

    private func lastEdit(startingAtOrBefore position: Int) -> Edit? {
        var low = 0
        var high = edits.count
        while low < high {
            let middle = (low + high) / 2
            if edits[middle].view.lowerBound <= position { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? edits[low - 1] : nil
    }

    /// For view byte ranges in ascending order (non-empty, disjoint), the original UTF-8 range and the
    /// code-point range of each. Code points are counted in one forward walk over all of them.
    func locate(_ ranges: [Range<Int>]) -> [(utf8: Range<Int>, scalars: Range<Int>)] {
        var counter = ScalarCounter(bytes: original ?? bytes, isASCII: isASCII)
        return ranges.map { range in
            let lower = originalStart(ofByte: range.lowerBound)
            let upper = originalEnd(ofByte: range.upperBound - 1)
            let scalarLower = counter.scalars(before: lower)
            let scalarUpper = counter.scalars(before: upper)
            return (lower..<upper, scalarLower..<scalarUpper)
        }
    }

    /// Counts code points (non-continuation bytes) in a prefix of UTF-8 bytes, resuming from the last
    /// query, so ascending queries cost one pass in total.
    private struct ScalarCounter {
        let bytes: [UInt8]
        let isASCII: Bool
        var offset = 0
        var scalars = 0

        mutating func scalars(before target: Int) -> Int {
            if isASCII { return target }
            if target < offset {
                offset = 0
                scalars = 0
            }
            let end = min(target, bytes.count)
            while offset < end {
                if bytes[offset] & 0xC0 != 0x80 { scalars += 1 }
                offset += 1
            }
            return scalars
        }
    }
}

/// Hand decoding of UTF-8 that is valid by construction (a Swift string), without String indices.
enum UTF8Decoding {
    /// The scalar starting at `index` and its length in bytes (U+FFFD for a truncated sequence).
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
        let count = bytes.count
        let lead = UInt32(bytes[index])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0, index + 1 < count { return ((lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2) }
        if lead < 0xF0, index + 2 < count {
            return ((lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
        }
        if index + 3 < count {
            let value = (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F)
            return (value, 4)
        }
        return (0xFFFD, count - index)
    }
}
