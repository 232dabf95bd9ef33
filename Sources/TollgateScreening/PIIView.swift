/// The text PII patterns run over, with a map from its bytes back to the original string.
///
/// Only changes that keep entities recognisable are made: invisible characters are dropped and
/// full-width forms and exotic spaces/dashes become ASCII, so `ｊｏｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` or a card
/// number with zero-width joiners is still found. No case, homoglyph or leetspeak folding happens here:
/// those would change digits and letters that make up the entity.
struct PIIView {
    let bytes: [UInt8]
    /// For each view byte, the code-point index in the original text of the scalar it came from;
    /// nil when the view is the original text byte for byte (pure ASCII).
    private let scalarIndexOfByte: [Int32]?
    /// UTF-8 offset of each original scalar, plus one entry for the end.
    private let utf8OffsetOfScalar: [Int32]?

    init(_ text: String) {
        let utf8 = text.utf8
        if ASCII.isASCII(text) {
            bytes = Array(utf8)
            scalarIndexOfByte = nil
            utf8OffsetOfScalar = nil
            return
        }
        var out: [UInt8] = []
        var origin: [Int32] = []
        var offsets: [Int32] = []
        out.reserveCapacity(utf8.count)
        origin.reserveCapacity(utf8.count)
        var utf8Offset: Int32 = 0
        var scalarIndex: Int32 = 0
        for scalar in text.unicodeScalars {
            offsets.append(utf8Offset)
            utf8Offset += Int32(UTF8.width(scalar))
            defer { scalarIndex += 1 }
            let value = scalar.value
            if UnicodeFolding.isInvisible(value) { continue }
            let mapped: Unicode.Scalar
            switch value {
            case 0xFF01...0xFF5E: mapped = Unicode.Scalar(value - 0xFF01 + 0x21) ?? scalar
            case 0x3000, 0x00A0, 0x2000...0x200A, 0x202F, 0x205F: mapped = " "
            case 0x2010...0x2015, 0x2212, 0xFE63: mapped = "-"
            default: mapped = scalar
            }
            for byte in mapped.utf8 {
                out.append(byte)
                origin.append(scalarIndex)
            }
        }
        offsets.append(utf8Offset)
        bytes = out
        scalarIndexOfByte = origin
        utf8OffsetOfScalar = offsets
    }

    /// Code-point range in the original text for the view byte range `range` (non-empty).
    func scalarRange(of range: Range<Int>) -> Range<Int> {
        guard let scalarIndexOfByte else { return range }
        let lower = Int(scalarIndexOfByte[range.lowerBound])
        let upper = Int(scalarIndexOfByte[range.upperBound - 1]) + 1
        return lower..<upper
    }

    /// UTF-8 offset range in the original text for a code-point range from `scalarRange(of:)`.
    func utf8Range(ofScalars range: Range<Int>) -> Range<Int> {
        guard let utf8OffsetOfScalar else { return range }
        return Int(utf8OffsetOfScalar[range.lowerBound])..<Int(utf8OffsetOfScalar[range.upperBound])
    }
}
