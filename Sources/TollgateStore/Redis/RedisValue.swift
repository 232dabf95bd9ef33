/// A Redis reply converted out of hiredis memory, so it can cross threads after the C reply is freed.
enum RedisValue: Sendable, Hashable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case null
    case error(String)
    case array([RedisValue])

    var text: String? {
        switch self {
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .string, .status: return text.flatMap { Int64($0) }
        default: return nil
        }
    }

    var elements: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    var isNull: Bool { self == .null }

    /// Throws an error reply as `.unavailable` (wrong type, script error, OOM...), else returns self.
    func checked() throws -> RedisValue {
        if case .error(let message) = self { throw StoreError.unavailable("redis error: \(message)") }
        return self
    }
}
