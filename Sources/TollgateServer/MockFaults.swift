import TollgateCore

/// Faults the mock provider injects, set by flags, changed at runtime through
/// `POST /mock/faults`, and overridden per request by `x-mock-*` headers or a `mock` object
/// in the body (which the gateway forwards untouched, so tests can steer it end to end).
public struct MockFaults: Sendable, Equatable {
    /// Status to answer with instead of 200 (for every request, or per `errorRate`).
    public var status: Int?
    /// Fraction of requests that fail with `status` (default 500); deterministic, by count.
    public var errorRate: Double
    public var latencyMs: Int
    /// Delay between streamed chunks.
    public var chunkDelayMs: Int
    /// After this many chunks, stop sending but keep the connection open for `stallMs`.
    public var stallAfterChunks: Int?
    public var stallMs: Int
    /// After this many chunks, drop the connection without ending the response.
    public var resetAfterChunks: Int?
    public var retryAfterSeconds: Int?
    /// Reply text instead of the default echo.
    public var reply: String?
    /// Stream the reply in pieces of this many characters instead of word by word, so tests can
    /// split a value across chunks.
    public var chunkChars: Int?
    /// Answer with a call of a `lookup` tool whose arguments are `{"query": <reply>}` instead of text.
    public var toolCall: Bool
    /// Answer 200 with these bytes as the body (non-stream) or as one event's data (stream), as a
    /// broken provider would.
    public var rawBody: String?

    public init(
        status: Int? = nil, errorRate: Double = 0, latencyMs: Int = 0, chunkDelayMs: Int = 0, stallAfterChunks: Int? = nil,
        stallMs: Int = 60_000, resetAfterChunks: Int? = nil, retryAfterSeconds: Int? = nil, reply: String? = nil,
        chunkChars: Int? = nil, toolCall: Bool = false, rawBody: String? = nil
    ) {
        self.toolCall = toolCall
        self.rawBody = rawBody
        self.chunkChars = chunkChars
        self.status = status
        self.errorRate = errorRate
        self.latencyMs = latencyMs
        self.chunkDelayMs = chunkDelayMs
        self.stallAfterChunks = stallAfterChunks
        self.stallMs = stallMs
        self.resetAfterChunks = resetAfterChunks
        self.retryAfterSeconds = retryAfterSeconds
        self.reply = reply
    }

    /// Applies overrides from a JSON object with snake_case keys.
    func merging(_ json: JSONValue?) -> MockFaults {
        guard let json, case .object = json else { return self }
        var f = self
        if let v = json["status"]?.intValue { f.status = v }
        if let v = json["error_rate"]?.doubleValue { f.errorRate = v }
        if let v = json["latency_ms"]?.intValue { f.latencyMs = v }
        if let v = json["chunk_delay_ms"]?.intValue { f.chunkDelayMs = v }
        if let v = json["stall_after_chunks"]?.intValue { f.stallAfterChunks = v }
        if let v = json["stall_ms"]?.intValue { f.stallMs = v }
        if let v = json["reset_after_chunks"]?.intValue { f.resetAfterChunks = v }
        if let v = json["retry_after"]?.intValue { f.retryAfterSeconds = v }
        if let v = json["reply"]?.stringValue { f.reply = v }
        if let v = json["chunk_chars"]?.intValue, v > 0 { f.chunkChars = v }
        if let v = json["tool_call"]?.boolValue { f.toolCall = v }
        if let v = json["raw_body"]?.stringValue { f.rawBody = v }
        if json["status"] == .null { f.status = nil }
        return f
    }

    /// Applies overrides from `x-mock-*` request headers.
    func merging(headers: [(String, String)]) -> MockFaults {
        var members: [(String, JSONValue)] = []
        for (name, value) in headers where name.hasPrefix("x-mock-") {
            let key = String(name.dropFirst("x-mock-".count)).replacingDashes()
            if key == "reply" { members.append((key, .string(value))) } else if Double(value) != nil { members.append((key, .number(value))) }
        }
        return merging(.object(members))
    }
}

extension String {
    fileprivate func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
