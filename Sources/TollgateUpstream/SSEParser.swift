/// Incremental parser for `text/event-stream` (server-sent events) as providers stream them.
///
/// Network chunks split events anywhere (mid-line, between `\r` and `\n`, inside a UTF-8
/// sequence), so the parser keeps the partial line and event between `feed` calls and returns
/// only complete events' `data` payloads. Follows the WHATWG parsing rules: lines end in `\n`,
/// `\r\n` or `\r`; lines starting with `:` are comments; several `data:` lines join with `\n`;
/// one space after the colon is dropped; an event with no data is not dispatched.
public struct SSEParser: Sendable {
    /// A stream that never ends a line or an event could otherwise grow memory without bound.
    public struct EventTooLarge: Error, Sendable, Equatable {
        public let limit: Int
        public init(limit: Int) { self.limit = limit }
    }

    public let maxEventBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var lastWasCR = false
    private var atStreamStart = true
    private var bomBytesSeen = 0
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// - Parameter maxEventBytes: limit on one event's size (line plus accumulated data).
    public init(maxEventBytes: Int = 8 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Consumes the next bytes of the stream; returns the data payloads of events completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(EventTooLarge) -> [String] {
        var events: [String] = []
        for byte in bytes {
            if atStreamStart {
                // A UTF-8 byte order mark may open the stream; it is not part of any field.
                if byte == Self.bom[bomBytesSeen] {
                    bomBytesSeen += 1
                    if bomBytesSeen == Self.bom.count { atStreamStart = false }
                    continue
                }
                atStreamStart = false
                line.append(contentsOf: Self.bom.prefix(bomBytesSeen))
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if lastWasCR {
                    lastWasCR = false
                    continue
                }
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                lastWasCR = true
                if let event = endLine() { events.append(event) }
            default:
                lastWasCR = false
                line.append(byte)
                if line.count + data.count > maxEventBytes { throw EventTooLarge(limit: maxEventBytes) }
            }
        }
        return events
    }

    /// Processes one complete line; returns the event's data when the line was blank.
    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasData else { return nil }
            let payload = String(decoding: data, as: UTF8.self)
            data.removeAll(keepingCapacity: true)
            hasData = false
            return payload
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        }
        return nil
    }
}
