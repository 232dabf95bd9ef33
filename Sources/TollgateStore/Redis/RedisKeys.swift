/// Redis key names. Everything of one team shares the hash tag `{team}`, so the multi-key admit and
/// settle scripts stay within one slot on Redis Cluster; key records share the tag `{keys}`.
struct RedisKeys: Sendable {
    let prefix: String

    var keyRecordPrefix: String { "\(prefix):{keys}:h:" }
    var keyIDPrefix: String { "\(prefix):{keys}:id:" }
    var allKeys: String { "\(prefix):{keys}:all" }
    var invalidationChannel: String { "\(prefix):key-invalidations" }

    func keyRecord(hash: String) -> String { keyRecordPrefix + Self.escape(hash) }
    func keyID(_ id: String) -> String { keyIDPrefix + Self.escape(id) }
    func teamKeys(_ team: String) -> String { "\(prefix):{keys}:team:\(Self.escape(team))" }

    /// One hash per team holds every rate-limit TAT of the team (one field per rule, see
    /// `rateLimitField`), so all limits of a request are read and written with one command each.
    func rateLimits(team: String) -> String { "\(teamTag(team)):gcra" }
    /// A rule's field in `rateLimits(team:)`. Escaped, so it can never be the script's `~exp` field.
    func rateLimitField(rule: String) -> String { Self.escape(rule) }
    func budget(team: String, bucket: String) -> String { "\(teamTag(team)):bg:\(Self.escape(bucket))" }
    func usage(team: String, periodKey: String) -> String { "\(teamTag(team)):us:\(Self.escape(periodKey))" }

    /// A cached answer, by the hex SHA-256 of its key material (which already includes the team).
    func cachedAnswer(digest: String) -> String { "\(prefix):cache:\(Self.escape(digest))" }

    private func teamTag(_ team: String) -> String { "\(prefix):{\(Self.escape(team))}" }

    /// Percent-encodes anything outside a safe set, so a team named `a}b` cannot break the hash tag.
    /// Names already in the safe set (all the gateway makes) are returned as they are, without a copy.
    static func escape(_ text: String) -> String {
        if text.utf8.allSatisfy(isSafe) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if isSafe(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "|"), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }
}
