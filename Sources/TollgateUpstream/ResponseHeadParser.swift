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

    mutating func consume(line raw: UnsafeRawBufferPointer) -> LineResult {
        if isComplete { return .needMore }
        var line = Array(raw)
        while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: "\n") {
            line.removeLast()
        }
        headBytes += raw.count
        if headBytes > maxHeadBytes { return .tooLarge }

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
        if line.starts(with: Array("HTTP/".utf8)) {
            status = Self.parseStatus(line)
            headers.removeAll()
            return .needMore
        }
        if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            // Obsolete line folding: continuation of the previous header's value.
            if let lastIndex = headers.indices.last {
                let more = String(decoding: line, as: UTF8.self).trimmingHTTPWhitespace()
                headers[lastIndex].1 += " " + more
            }
            return .needMore
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .needMore }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingHTTPWhitespace()
        headers.append((name, value))
        return .needMore
    }

    /// Status code from `HTTP/1.1 200 OK` or `HTTP/2 200`.
    private static func parseStatus(_ line: [UInt8]) -> Int? {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[1].count == 3 else { return nil }
        return Int(String(decoding: parts[1], as: UTF8.self))
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
