import Glibc

/// Checksum and range checks applied after a PII pattern matched; each takes the matched bytes.
enum PIIValidation {
    static func isValid(_ candidate: ArraySlice<UInt8>, as validator: PIIValidator) -> Bool {
        switch validator {
        case .none: return true
        case .luhn: return isCardNumber(candidate)
        case .iban: return isIBAN(candidate)
        case .ssn: return isSSN(candidate)
        case .ipv4: return isIPv4(candidate)
        case .ipv6: return isIPv6(candidate)
        case .phone: return isPhone(candidate)
        case .secret: return looksRandom(candidate)
        }
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.compactMap { $0 >= 0x30 && $0 <= 0x39 ? $0 - 0x30 : nil }
    }

    /// 13–19 digits passing Luhn; 12 digits only with a Maestro prefix, since 12-digit Luhn hits are common.
    static func isCardNumber(_ bytes: ArraySlice<UInt8>) -> Bool {
        let number = digits(bytes)
        guard (12...19).contains(number.count), number.first != 0 else { return false }
        if number.count == 12 {
            let prefix = Int(number[0]) * 10 + Int(number[1])
            guard prefix == 50 || (56...69).contains(prefix) else { return false }
        }
        // One repeated digit (0000 0000 ...) passes Luhn but is a placeholder.
        guard Set(number).count > 1 else { return false }
        return luhn(number)
    }

    static func luhn(_ number: [UInt8]) -> Bool {
        var sum = 0
        for (position, digit) in number.reversed().enumerated() {
            var value = Int(digit)
            if position % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    /// Country length table for the IBAN countries most likely to appear; others need 15–34 characters.
    private static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28, "CZ": 24,
        "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18,
        "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KW": 30, "KZ": 20, "LB": 28,
        "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "ME": 22, "MK": 19, "MT": 31, "MU": 30, "NL": 18,
        "NO": 15, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
        "SM": 27, "TN": 24, "TR": 26, "UA": 29,
    ]

    static func isIBAN(_ bytes: ArraySlice<UInt8>) -> Bool {
        let characters = bytes.filter { $0 != 0x20 }.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        guard (15...34).contains(characters.count) else { return false }
        let country = String(decoding: characters.prefix(2), as: UTF8.self)
        if let expected = ibanLengths[country], expected != characters.count { return false }
        let rearranged = characters.dropFirst(4) + characters.prefix(4)
        var remainder = 0
        for character in rearranged {
            switch character {
            case 0x30...0x39:
                remainder = (remainder * 10 + Int(character - 0x30)) % 97
            case 0x41...0x5A:
                remainder = (remainder * 100 + Int(character - 0x41 + 10)) % 97
            default:
                return false
            }
        }
        return remainder == 1
    }

    /// Area 001–665, 667–899; group 01–99; serial 0001–9999 (SSA rules since 2011 randomisation).
    static func isSSN(_ bytes: ArraySlice<UInt8>) -> Bool {
        let number = digits(bytes)
        guard number.count == 9 else { return false }
        let area = Int(number[0]) * 100 + Int(number[1]) * 10 + Int(number[2])
        let group = Int(number[3]) * 10 + Int(number[4])
        let serial = number[5...].reduce(0) { $0 * 10 + Int($1) }
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return false }
        // Well-known dummy values.
        return !(area == 123 && group == 45 && serial == 6789) && !(area == 78 && group == 5 && serial == 1120)
    }

    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        var octets = 0
        var value = 0
        var length = 0
        for byte in bytes {
            if byte == 0x2E {
                guard length > 0 else { return false }
                octets += 1
                value = 0
                length = 0
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { return false }
            // A leading zero ("010") reads as a version or a date part, not as an address.
            if length == 1 && value == 0 { return false }
            value = value * 10 + Int(byte - 0x30)
            length += 1
            guard value <= 255, length <= 3 else { return false }
        }
        return octets == 3 && length > 0
    }

    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        var hexDigits = 0
        var colons = 0
        for byte in bytes {
            if byte == 0x3A { colons += 1 } else if byte != 0x2E { hexDigits += 1 }
        }
        // The longest textual IPv6 address (with an embedded IPv4 tail) has 45 characters.
        guard hexDigits >= 3, colons > 0, bytes.count <= 45 else { return false }
        var address = in6_addr()
        // A NUL-terminated copy on the stack: this runs for every candidate, such as each "12:00:13".
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 46) { text in
            var index = 0
            for byte in bytes {
                text[index] = CChar(bitPattern: byte)
                index += 1
            }
            text[index] = 0
            return inet_pton(AF_INET6, text.baseAddress, &address) == 1
        }
    }

    /// E.164 allows at most 15 digits; fewer than 7 is a short code or a fragment, not a phone number.
    static func isPhone(_ bytes: ArraySlice<UInt8>) -> Bool {
        var number = digits(bytes)
        // An extension ("x818") is not part of the subscriber number.
        if let xIndex = bytes.firstIndex(where: { $0 == 0x78 || $0 == 0x58 }) {
            number = digits(bytes[bytes.startIndex..<xIndex])
        }
        guard (7...15).contains(number.count) else { return false }
        return Set(number).count > 2 && !isISODate(bytes)
    }

    /// `1984-07-12`: digits and dashes in date shape are a date, even right before "mobile".
    static func isISODate(_ bytes: ArraySlice<UInt8>) -> Bool {
        let shape = bytes.map { $0 >= 0x30 && $0 <= 0x39 ? UInt8(ascii: "9") : $0 }
        return shape == Array("9999-99-99".utf8) || shape == Array("9999/99/99".utf8)
            || shape == Array("99/99/9999".utf8) || shape == Array("99.99.9999".utf8)
    }

    /// Rejects placeholders such as `sk-xxxxxxxxxxxxxxxxxxxx` or `YOUR_API_KEY_HERE`: a real token mixes
    /// character classes and has many distinct characters.
    static func looksRandom(_ bytes: ArraySlice<UInt8>) -> Bool {
        var distinct = Set<UInt8>()
        var hasDigit = false
        var hasUpper = false
        var hasLower = false
        for byte in bytes {
            distinct.insert(byte)
            switch byte {
            case 0x30...0x39: hasDigit = true
            case 0x41...0x5A: hasUpper = true
            case 0x61...0x7A: hasLower = true
            default: break
            }
        }
        let classes = (hasDigit ? 1 : 0) + (hasUpper ? 1 : 0) + (hasLower ? 1 : 0)
        return distinct.count >= 10 && classes >= 2
    }
}
