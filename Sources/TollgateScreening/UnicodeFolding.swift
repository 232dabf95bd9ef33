/// Character tables shared by the normalizers: which scalars are invisible, which look like Latin
/// letters, and which ASCII symbols stand in for letters in leetspeak.
enum UnicodeFolding {
    /// Zero-width, bidi-control, soft-hyphen and similar format characters that render as nothing and
    /// are used to split trigger words.
    static func isInvisible(_ value: UInt32) -> Bool {
        switch value {
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F,
            0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF,
            0xFFA0, 0xE0000...0xE007F:
            return true
        default:
            return false
        }
    }

    static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
            0x3000:
            return true
        default:
            return false
        }
    }

    /// Cyrillic, Greek and other letters that render like a Latin letter, folded to that letter.
    /// Only used for injection matching, never for text that is shown or redacted.
    static func latinLookalike(_ value: UInt32) -> UInt8? {
        homoglyphs[value]
    }

    private static let homoglyphs: [UInt32: UInt8] = {
        let pairs: [(String, Character)] = [
            ("аɑαа", "a"), ("АΑ", "A"), ("ВΒв", "B"), ("сϲ", "c"), ("СϹ", "C"), ("ԁ", "d"), ("еε", "e"),
            ("ЕΕ", "E"), ("ғ", "f"), ("ɡ", "g"), ("һ", "h"), ("НΗ", "H"), ("іι", "i"), ("ІΙӀ", "I"),
            ("ј", "j"), ("Ј", "J"), ("κ", "k"), ("КΚ", "K"), ("ӏ", "l"), ("М", "M"), ("Μ", "M"),
            ("ոη", "n"), ("Ν", "N"), ("оοσ", "o"), ("ОΟ", "O"), ("рρ", "p"), ("РΡ", "P"), ("ԛ", "q"),
            ("г", "r"), ("ѕ", "s"), ("Ѕ", "S"), ("т", "t"), ("ТΤ", "T"), ("υս", "u"), ("ν", "v"),
            ("ѡ", "w"), ("хχ", "x"), ("ХΧ", "X"), ("уү", "y"), ("УΥ", "Y"), ("ΖZ", "Z"),
        ]
        var table: [UInt32: UInt8] = [:]
        for (sources, target) in pairs {
            guard let ascii = target.asciiValue else { continue }
            for scalar in sources.unicodeScalars where scalar.value >= 0x80 {
                table[scalar.value] = ascii
            }
        }
        return table
    }()

    /// ASCII digits and symbols read as letters in leetspeak (`1gn0r3` -> `ignore`).
    static func leetLetter(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0"): return UInt8(ascii: "o")
        case UInt8(ascii: "1"), UInt8(ascii: "!"), UInt8(ascii: "|"): return UInt8(ascii: "i")
        case UInt8(ascii: "3"): return UInt8(ascii: "e")
        case UInt8(ascii: "4"), UInt8(ascii: "@"): return UInt8(ascii: "a")
        case UInt8(ascii: "5"), UInt8(ascii: "$"): return UInt8(ascii: "s")
        case UInt8(ascii: "7"), UInt8(ascii: "+"): return UInt8(ascii: "t")
        case UInt8(ascii: "8"): return UInt8(ascii: "b")
        case UInt8(ascii: "9"): return UInt8(ascii: "g")
        default: return nil
        }
    }

    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}
