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

    func rateLimit(team: String, rule: String) -> String { "\(teamTag(team)):rl:\(Self.escape(rule))" }
    func budget(team: String, bucket: String) -> String { "\(teamTag(team)):bg:\(Self.escape(bucket))" }
    func usage(team: String, periodKey: String) -> String { "\(teamTag(team)):us:\(Self.escape(periodKey))" }

    private func teamTag(_ team: String) -> String { "\(prefix):{\(Self.escape(team))}" }

    /// Percent-encodes anything outside a safe set, so a team named `a}b` cannot break the hash tag.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "|"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }
}
