/// A provider's answer as the response cache keeps it: who answered, and the body as it left
/// output screening (redacted, never restored, so the store holds no PII the screen would hide).
public struct CachedAnswer: Sendable, Equatable {
    public var provider: String
    public var target: String
    public var body: [UInt8]

    public init(provider: String, target: String, body: [UInt8]) {
        self.provider = provider
        self.target = target
        self.body = body
    }

    static let magic = Array("tollgate-cache-1\n".utf8)

    /// One line per name, then the body; nil when a name could not be read back unambiguously.
    public func encoded() -> [UInt8]? {
        guard !provider.utf8.contains(10), !target.utf8.contains(10) else { return nil }
        var out = Self.magic
        out.reserveCapacity(out.count + provider.utf8.count + target.utf8.count + body.count + 2)
        out.append(contentsOf: provider.utf8)
        out.append(10)
        out.append(contentsOf: target.utf8)
        out.append(10)
        out.append(contentsOf: body)
        return out
    }

    /// Nil for anything this version did not write (another format, truncated value), which the
    /// gateway then treats as a miss.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count > Self.magic.count, bytes.starts(with: Self.magic) else { return nil }
        var rest = bytes[Self.magic.count...]
        guard let first = rest.firstIndex(of: 10) else { return nil }
        let provider = String(decoding: rest[..<first], as: UTF8.self)
        rest = rest[(first + 1)...]
        guard let second = rest.firstIndex(of: 10) else { return nil }
        let target = String(decoding: rest[..<second], as: UTF8.self)
        self.init(provider: provider, target: target, body: Array(rest[(second + 1)...]))
    }
}
