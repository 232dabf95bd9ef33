/// Splits a server-sent-events byte stream into whole events.
///
/// The gateway forwards streams event by event rather than chunk by chunk: that keeps an
/// event from being cut in half when a provider breaks off, lets usage be read from the last
/// event, and gives screening whole deltas. An event larger than `maxEventBytes` is an error
/// rather than an unbounded buffer.
public struct SSEFramer: Sendable {
    public struct Oversized: Error, Sendable {}

    public let maxEventBytes: Int
    private var buffer: [UInt8] = []
    private var scanFrom = 0

    public init(maxEventBytes: Int = 1 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// Bytes of an event that has begun but not ended.
    public var pendingByteCount: Int { buffer.count }

    /// Appends `bytes` and returns every event completed by them, each with its terminator.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(Oversized) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var events: [[UInt8]] = []
        var start = 0
        var i = max(scanFrom, 0)
        while i < buffer.count {
            if buffer[i] == 0x0A {
                // "\n\n" or "\n\r\n" ends an event.
                if i + 1 < buffer.count && buffer[i + 1] == 0x0A {
                    events.append(Array(buffer[start...(i + 1)]))
                    start = i + 2
                    i += 2
                    continue
                }
                if i + 2 < buffer.count && buffer[i + 1] == 0x0D && buffer[i + 2] == 0x0A {
                    events.append(Array(buffer[start...(i + 2)]))
                    start = i + 3
                    i += 3
                    continue
                }
            }
            i += 1
        }
        if start > 0 { buffer.removeFirst(start) }
        // Re-scan the last two bytes next time: a terminator may straddle chunks.
        scanFrom = max(0, buffer.count - 2)
        if buffer.count > maxEventBytes { throw Oversized() }
        return events
    }

    /// Whatever is left when the stream ends (an unterminated final event), then resets.
    public mutating func drain() -> [UInt8] {
        defer {
            buffer.removeAll()
            scanFrom = 0
        }
        return buffer
    }
}

/// Reads the `data:` payload of one SSE event.
public enum SSEEvent {
    /// The joined data lines of `event`, or nil when it has none (a comment or keep-alive).
    public static func data(_ event: [UInt8]) -> [UInt8]? {
        var result: [UInt8]? = nil
        var lineStart = 0
        var i = 0
        while i <= event.count {
            if i == event.count || event[i] == 0x0A {
                var line = event[lineStart..<i]
                if line.last == 0x0D { line = line.dropLast() }
                if line.starts(with: "data:".utf8) {
                    var payload = line.dropFirst(5)
                    if payload.first == 0x20 { payload = payload.dropFirst() }
                    if result == nil { result = Array(payload) } else {
                        result!.append(0x0A)
                        result!.append(contentsOf: payload)
                    }
                }
                lineStart = i + 1
            }
            i += 1
        }
        return result
    }

    public static let done: [UInt8] = Array("[DONE]".utf8)

    /// Frames `payload` as one `data:` event.
    public static func encode(_ payload: [UInt8]) -> [UInt8] {
        var out = Array("data: ".utf8)
        out.append(contentsOf: payload)
        out.append(contentsOf: [0x0A, 0x0A])
        return out
    }
}
