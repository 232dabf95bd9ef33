/// Turns the header lines curl hands to its header callback into the final response head.
///
/// curl calls the callback once per line, including status lines and the blank line ending each
/// block, for every response on the wire: interim `1xx` responses (100-continue, 103 early
/// hints) come first and must not leak into the final headers, and trailers may follow the body.
struct ResponseHeadParser {
    struct Head: Equatable {
        var status: Int
        var headers: [(String, String)]

        static func == (lhs: Head, rhs: Head) -> Bool {
            lhs.status == rhs.status && lhs.headers.elementsEqual(rhs.headers) { $0 == $1 }
        }
    }

    enum LineResult: Equatable {
        case needMore
        /// The final response's head is complete; later lines (trailers) are ignored.
        case complete(Head)
        case tooLarge
    }

    /// Bound on the accumulated head so a hostile upstream cannot grow memory through headers.
    let maxHeadBytes: Int
    private var status: Int?
    private var headers: [(String, String)] = []
    private var headBytes = 0
    private(set) var isComplete = false

    init(maxHeadBytes: Int = 256 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Works on curl's bytes in place (no per-line array or substring copies): this runs for
    /// every header of every proxied response, on the curl thread.
    mutating func consume(line raw: UnsafeRawBufferPointer) -> LineResult {
        if isComplete { return .needMore }
        headBytes += raw.count
        if headBytes > maxHeadBytes { return .tooLarge }
        var end = raw.count
        while end > 0, raw[end - 1] == UInt8(ascii: "\r") || raw[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: raw[0..<end])

        if line.isEmpty {
            guard let status else { return .needMore }  // stray blank line before any status
            if (100..<200).contains(status) && status != 101 {
                self.status = nil
                headers.removeAll()
                headBytes = 0
                return .needMore
            }
            isComplete = true
            return .complete(Head(status: status, headers: headers))
        }
        if line.starts(with: "HTTP/".utf8) {
            status = Self.parseStatus(line)
            headers.removeAll()
            return .needMore
        }
        if line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t") {
            // Obsolete line folding: continuation of the previous header's value.
            if let lastIndex = headers.indices.last {
                headers[lastIndex].1 += " " + Self.trimmedString(line, from: 0, to: line.count)
            }
            return .needMore
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .needMore }
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for index in 0..<colon {
                let byte = line[index]
                out[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            }
            return colon
        }
        headers.append((name, Self.trimmedString(line, from: colon + 1, to: line.count)))
        return .needMore
    }

    /// `line[from..<to]` without leading and trailing spaces and tabs, as a String.
    private static func trimmedString(_ line: UnsafeRawBufferPointer, from: Int, to: Int) -> String {
        var lower = from
        var upper = to
        while lower < upper, line[lower] == UInt8(ascii: " ") || line[lower] == UInt8(ascii: "\t") { lower += 1 }
        while upper > lower, line[upper - 1] == UInt8(ascii: " ") || line[upper - 1] == UInt8(ascii: "\t") { upper -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[lower..<upper]), as: UTF8.self)
    }

    /// Status code from `HTTP/1.1 200 OK` or `HTTP/2 200`.
    private static func parseStatus(_ line: UnsafeRawBufferPointer) -> Int? {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[1].count == 3 else { return nil }
        var code = 0
        for byte in parts[1] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return code
    }
}

extension String {
    func trimmingHTTPWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
