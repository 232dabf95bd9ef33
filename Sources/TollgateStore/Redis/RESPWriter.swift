/// Encodes command arguments straight into RESP wire format (`$len\r\nbytes\r\n` each).
///
/// The admit and settle commands carry a dozen arguments on every request; writing them into one
/// buffer (integers as ASCII digits, numbers for the scripts packed as doubles) replaces a `String`
/// and an `[UInt8]` per argument plus hiredis' own formatting pass.
struct RESPWriter {
    private(set) var body: [UInt8] = []
    /// Arguments written so far.
    private(set) var count = 0

    init(capacity: Int = 256) {
        body.reserveCapacity(capacity)
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(bytes: $0) }
    }

    mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        appendLength(bytes.count)
        body.append(contentsOf: bytes)
        appendCRLF()
    }

    mutating func append(_ value: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var magnitude = value.magnitude
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                index -= 1
                buffer[index] = UInt8(ascii: "-")
            }
            append(bytes: UnsafeBufferPointer(rebasing: buffer[index...]))
        }
    }

    /// One argument holding `values` as little-endian IEEE doubles, for the scripts to read with
    /// `struct.unpack('<d…')`: no string-to-number parsing on the Redis side. Every figure the
    /// scripts take is an integer below 2^53 in practice (microsecond times, tokens, micro-USD), which
    /// doubles hold exactly; larger ones round exactly as Lua's own `tonumber` would.
    mutating func append(packed values: [Double]) {
        appendLength(values.count * 8)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) }
        }
        appendCRLF()
    }

    /// The complete command: `*count\r\n` followed by the arguments.
    func command(prefix: RESPWriter? = nil) -> [UInt8] {
        let total = count + (prefix?.count ?? 0)
        var out: [UInt8] = []
        out.reserveCapacity(body.count + (prefix?.body.count ?? 0) + 16)
        out.append(UInt8(ascii: "*"))
        Self.appendDecimal(total, to: &out)
        out.append(contentsOf: [13, 10])
        if let prefix { out.append(contentsOf: prefix.body) }
        out.append(contentsOf: body)
        return out
    }

    private mutating func appendLength(_ length: Int) {
        count += 1
        body.append(UInt8(ascii: "$"))
        Self.appendDecimal(length, to: &body)
        appendCRLF()
    }

    private mutating func appendCRLF() {
        body.append(13)
        body.append(10)
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        appendDecimal(value / 10, to: &out)
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
