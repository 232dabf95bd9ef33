/// When bytes decoded from base64 or hex count as hidden text rather than binary noise.
enum DecodedText {
    /// Mostly printable (nine scalars in ten) and holding a space: random binary that happens to be
    /// valid UTF-8 rarely has spaces; text does.
    static func isReadable(_ text: String) -> Bool {
        guard text.utf8.contains(0x20) else { return false }
        var printable = 0
        var total = 0
        for scalar in text.unicodeScalars {
            total += 1
            if scalar.value >= 0x20 || scalar.value == 0x0A || scalar.value == 0x0D || scalar.value == 0x09 { printable += 1 }
        }
        return printable * 10 >= total * 9
    }
}
