/// Rebuilds the `chat.completion` a streamed answer amounts to, so a stream can be cached and later
/// replayed to stream and non-stream clients alike.
///
/// Content, refusals and tool-call arguments are concatenated per choice (and per tool-call index),
/// as OpenAI's own SDK accumulates them. `completion()` is nil unless the stream is whole: every
/// choice finished, `[DONE]` seen, nothing malformed, and the answer within `maxBytes`.
public struct StreamAssembler: Sendable {
    private struct ToolCall: Sendable {
        var id: String?
        var type: String?
        var name: String?
        var arguments = ""
    }

    private struct Choice: Sendable {
        var role: String?
        var content: String?
        var refusal: String?
        var toolCalls: [Int: ToolCall] = [:]
        var finishReason: JSONValue?
    }

    private var id: JSONValue?
    private var created: JSONValue?
    private var model: JSONValue?
    private var fingerprint: JSONValue?
    private var usage: JSONValue?
    private var choices: [Int: Choice] = [:]
    private var bytes = 0
    private var broken = false
    private var done = false
    private let maxBytes: Int

    public init(maxBytes: Int = 1 << 20) {
        self.maxBytes = maxBytes
    }

    /// Feeds the data of one SSE event (`[DONE]` included).
    public mutating func feed(data: [UInt8]) {
        guard !broken else { return }
        if data == SSEEvent.done {
            done = true
            return
        }
        bytes += data.count
        guard bytes <= maxBytes, let chunk = try? JSONParser.parse(data), case .object = chunk else {
            broken = true
            return
        }
        id = id ?? chunk["id"]
        created = created ?? chunk["created"]
        model = model ?? chunk["model"]
        if let value = chunk["system_fingerprint"], value != .null { fingerprint = value }
        if let value = chunk["usage"], value != .null { usage = value }
        for item in chunk["choices"]?.arrayValue ?? [] {
            guard let index = item["index"]?.intValue, index >= 0, index < 128 else {
                broken = true
                return
            }
            var choice = choices[index] ?? Choice()
            if let delta = item["delta"] { apply(delta, to: &choice) }
            if let reason = item["finish_reason"], reason != .null { choice.finishReason = reason }
            choices[index] = choice
        }
    }

    private mutating func apply(_ delta: JSONValue, to choice: inout Choice) {
        if let role = delta["role"]?.stringValue { choice.role = role }
        if let text = delta["content"]?.stringValue { choice.content = (choice.content ?? "") + text }
        if let text = delta["refusal"]?.stringValue { choice.refusal = (choice.refusal ?? "") + text }
        for call in delta["tool_calls"]?.arrayValue ?? [] {
            guard let index = call["index"]?.intValue, index >= 0, index < 128 else {
                broken = true
                return
            }
            var tool = choice.toolCalls[index] ?? ToolCall()
            if let id = call["id"]?.stringValue { tool.id = id }
            if let type = call["type"]?.stringValue { tool.type = type }
            if let name = call["function"]?["name"]?.stringValue { tool.name = (tool.name ?? "") + name }
            if let arguments = call["function"]?["arguments"]?.stringValue { tool.arguments += arguments }
            choice.toolCalls[index] = tool
        }
    }

    /// The whole answer as a non-streamed response body would carry it, or nil if the stream was not whole.
    public func completion() -> JSONValue? {
        guard done, !broken, !choices.isEmpty, choices.values.allSatisfy({ $0.finishReason != nil }) else { return nil }
        let built: [JSONValue] = choices.keys.sorted().compactMap { index in
            guard let choice = choices[index] else { return nil }
            var message: [(String, JSONValue)] = [
                ("role", .string(choice.role ?? "assistant")), ("content", choice.content.map(JSONValue.string) ?? .null),
            ]
            if let refusal = choice.refusal { message.append(("refusal", .string(refusal))) }
            if !choice.toolCalls.isEmpty {
                let calls: [JSONValue] = choice.toolCalls.keys.sorted().compactMap { key in
                    guard let call = choice.toolCalls[key] else { return nil }
                    return .object([
                        ("id", call.id.map(JSONValue.string) ?? .null), ("type", .string(call.type ?? "function")),
                        ("function", .object([("name", .string(call.name ?? "")), ("arguments", .string(call.arguments))])),
                    ])
                }
                message.append(("tool_calls", .array(calls)))
            }
            return .object([
                ("index", .number(String(index))), ("message", .object(message)), ("logprobs", .null),
                ("finish_reason", choice.finishReason ?? .null),
            ])
        }
        var members: [(String, JSONValue)] = [
            ("id", id ?? .string("chatcmpl-cached")), ("object", .string("chat.completion")),
            ("created", created ?? .number("0")), ("model", model ?? .string("")), ("choices", .array(built)),
        ]
        if let usage { members.append(("usage", usage)) }
        if let fingerprint { members.append(("system_fingerprint", fingerprint)) }
        return .object(members)
    }
}
