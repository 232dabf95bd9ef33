import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// Builds the mock provider's answers, applying the faults in force for one request.
struct MockChatResponder: Sendable {
    let state: MockProvider.State
    let name: String

    struct ResetError: Error {}

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, extra: [(String, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (n, v) in extra { if let f = HTTPField.Name(n) { headers[f] = v } }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(value))))
    }

    /// Records the request, resolves faults, and returns the parsed body or a fault response.
    private func prepare(_ request: Request) async throws -> (JSONValue, MockFaults, Response?) {
        var request = request
        let buffer = try await request.collectBody(upTo: 16 * 1024 * 1024)
        let bytes = Array(buffer.readableBytesView)
        let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
        let count = state.counter.withLock { c -> Int in
            c += 1
            return c
        }
        state.last.withLock { $0 = .init(headers: headers, body: String(decoding: bytes, as: UTF8.self)) }
        guard let body = try? JSONParser.parse(bytes), case .object = body else {
            return (.null, MockFaults(), Self.error(400, "invalid JSON body"))
        }
        let faults = state.faults.withLock { $0 }.merging(headers: headers).merging(body["mock"])
        if faults.latencyMs > 0 { try await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        let failsByRate = faults.errorRate > 0 && Int(Double(count) * faults.errorRate) != Int(Double(count - 1) * faults.errorRate)
        if let status = faults.status, faults.errorRate == 0 || failsByRate {
            return (body, faults, Self.error(status, "mock fault", retryAfter: faults.retryAfterSeconds))
        }
        if failsByRate {
            return (body, faults, Self.error(500, "mock fault", retryAfter: faults.retryAfterSeconds))
        }
        return (body, faults, nil)
    }

    static func error(_ status: Int, _ message: String, retryAfter: Int? = nil) -> Response {
        let type = status == 429 ? "rate_limit_error" : (status >= 500 ? "server_error" : "invalid_request_error")
        return json(
            .object([("error", .object([("message", .string(message)), ("type", .string(type)), ("param", .null), ("code", .null)]))]),
            status: HTTPResponse.Status(code: status), extra: retryAfter.map { [("retry-after", String($0))] } ?? [])
    }

    func respond(_ request: Request, context: some RequestContext) async throws -> Response {
        let (body, faults, failure) = try await prepare(request)
        if let failure { return failure }
        let model = body["model"]?.stringValue ?? "mock"
        let messages = body["messages"]?.arrayValue ?? []
        let lastUser = messages.last(where: { $0["role"]?.stringValue == "user" }).flatMap { try? MessageContent.text(of: $0["content"], param: "") } ?? ""
        let promptTokens = max(1, messages.reduce(0) { $0 + ((try? MessageContent.text(of: $1["content"], param: ""))?.count ?? 0) } / 4)
        let text = faults.reply ?? "Hello from the Tollgate mock provider. You said: \(lastUser.prefix(200))"
        // A tool call carries the text as its (JSON) arguments; the pieces below are then argument fragments.
        let reply = faults.toolCall ? String(decoding: JSONWriter.bytes(.object([("query", .string(text))])), as: UTF8.self) : text
        let words = reply.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        // `n` choices, all with the same answer; streamed, their chunks interleave as OpenAI's do.
        let choiceCount = min(max(body["n"]?.intValue ?? 1, 1), 8)
        let completionTokens = words.count * choiceCount
        let finishReason = faults.toolCall ? "tool_calls" : "stop"
        // `logprobs: true` gets each piece back as a token, as OpenAI's `logprobs.content` has them.
        let wantsLogprobs = body["logprobs"]?.boolValue == true && !faults.toolCall
        @Sendable func logprobs(_ tokens: [String]) -> JSONValue {
            guard wantsLogprobs else { return .null }
            return .object([("content", .array(tokens.map { .object([("token", .string($0)), ("logprob", .number("-0.1"))]) }))])
        }
        @Sendable func toolCall(arguments: String, opening: Bool) -> JSONValue {
            var call: [(String, JSONValue)] = [("index", .number("0"))]
            if opening { call += [("id", .string("call_mock1")), ("type", .string("function"))] }
            let function: [(String, JSONValue)] = (opening ? [("name", .string("lookup"))] : []) + [("arguments", .string(arguments))]
            return .array([.object(call + [("function", .object(function))])])
        }
        let pieces: [String]
        if let size = faults.chunkChars {
            var parts: [String] = []
            var current = ""
            for ch in reply {
                current.append(ch)
                if current.count == size { parts.append(current); current = "" }
            }
            if !current.isEmpty { parts.append(current) }
            pieces = parts
        } else {
            pieces = words.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }
        }
        let id = "chatcmpl-mock\(state.counter.withLock { $0 })"
        let created = String(Int(Date().timeIntervalSince1970))
        let usage: JSONValue = .object([
            ("prompt_tokens", .number(String(promptTokens))), ("completion_tokens", .number(String(completionTokens))),
            ("total_tokens", .number(String(promptTokens + completionTokens))),
        ])
        if let raw = faults.rawBody, body["stream"]?.boolValue != true {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: raw)))
        }
        if body["stream"]?.boolValue != true {
            return Self.json(.object([
                ("id", .string(id)), ("object", .string("chat.completion")), ("created", .number(created)), ("model", .string(model)),
                ("choices", .array((0..<choiceCount).map { index in
                    .object([
                        ("index", .number(String(index))),
                        ("message", .object(
                            faults.toolCall
                                ? [("role", .string("assistant")), ("content", .null), ("tool_calls", toolCall(arguments: reply, opening: true))]
                                : [("role", .string("assistant")), ("content", .string(reply))])),
                        ("finish_reason", .string(finishReason)),
                        ("logprobs", logprobs(pieces)),
                    ])
                })),
                ("usage", usage),
            ]))
        }
        let includeUsage = body["stream_options"]?["include_usage"]?.boolValue ?? false
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            func chunk(_ delta: JSONValue, finish: String?, index: Int) -> ByteBuffer {
                let tokens = delta["content"]?.stringValue.map { $0.isEmpty ? [] : [$0] } ?? []
                let payload: JSONValue = .object([
                    ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .number(created)), ("model", .string(model)),
                    ("choices", .array([.object([
                        ("index", .number(String(index))), ("delta", delta), ("finish_reason", finish.map(JSONValue.string) ?? .null),
                        ("logprobs", logprobs(tokens)),
                    ])])),
                ])
                return ByteBuffer(bytes: SSEEvent.encode(JSONWriter.bytes(payload)))
            }
            for index in 0..<choiceCount {
                let opening: JSONValue =
                    faults.toolCall
                    ? .object([("role", .string("assistant")), ("content", .null), ("tool_calls", toolCall(arguments: "", opening: true))])
                    : .object([("role", .string("assistant")), ("content", .string(""))])
                try await writer.write(chunk(opening, finish: nil, index: index))
            }
            for (i, piece) in pieces.enumerated() {
                if let reset = faults.resetAfterChunks, i >= reset { throw ResetError() }
                if let stall = faults.stallAfterChunks, i == stall { try await Task.sleep(for: .milliseconds(faults.stallMs)) }
                if faults.chunkDelayMs > 0 { try await Task.sleep(for: .milliseconds(faults.chunkDelayMs)) }
                let delta: JSONValue =
                    faults.toolCall ? .object([("tool_calls", toolCall(arguments: piece, opening: false))]) : .object([("content", .string(piece))])
                for index in 0..<choiceCount {
                    try await writer.write(chunk(delta, finish: nil, index: index))
                }
            }
            if let raw = faults.rawBody { try await writer.write(ByteBuffer(string: "data: \(raw)\n\n")) }
            for index in 0..<choiceCount { try await writer.write(chunk(.object([]), finish: finishReason, index: index)) }
            if includeUsage {
                let payload: JSONValue = .object([
                    ("id", .string(id)), ("object", .string("chat.completion.chunk")), ("created", .number(created)), ("model", .string(model)),
                    ("choices", .array([])), ("usage", usage),
                ])
                try await writer.write(ByteBuffer(bytes: SSEEvent.encode(JSONWriter.bytes(payload))))
            }
            try await writer.write(ByteBuffer(bytes: SSEEvent.encode(SSEEvent.done)))
            try await writer.finish(nil)
        })
    }

    func embeddings(_ request: Request, context: some RequestContext) async throws -> Response {
        let (body, _, failure) = try await prepare(request)
        if let failure { return failure }
        let inputs: [String]
        switch body["input"] {
        case .some(.string(let s)): inputs = [s]
        case .some(.array(let items)): inputs = items.map { $0.stringValue ?? "" }
        default: return Self.error(400, "input is required")
        }
        let base64 = body["encoding_format"]?.stringValue == "base64"
        let data: [JSONValue] = inputs.enumerated().map { index, text in
            let vector = Self.embedding(of: text)
            let encoded: JSONValue = base64
                ? .string(Self.base64(vector))
                : .array(vector.map { .number(String(format: "%.6f", Double($0))) })
            return .object([("object", .string("embedding")), ("index", .number(String(index))), ("embedding", encoded)])
        }
        let tokens = max(1, inputs.reduce(0) { $0 + $1.count } / 4)
        return Self.json(.object([
            ("object", .string("list")), ("data", .array(data)), ("model", .string(body["model"]?.stringValue ?? "mock")),
            ("usage", .object([("prompt_tokens", .number(String(tokens))), ("total_tokens", .number(String(tokens)))])),
        ]))
    }

    /// A deterministic 8-dimension vector derived from the text (FNV-1a), so equal inputs embed equally.
    static func embedding(of text: String) -> [Float] {
        var seed = UInt64(1469598103934665603)
        for b in text.utf8 { seed = (seed ^ UInt64(b)) &* 1099511628211 }
        return (0..<8).map { i in Float(Double((seed >> UInt64(i * 8)) & 0xFF) / 255.0 - 0.5) }
    }

    /// `encoding_format: "base64"` as OpenAI answers it: the little-endian float32 bytes in base64.
    /// The official SDKs ask for this by default and decode it, so the mock must speak it.
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        return Data(bytes).base64EncodedString()
    }
}
