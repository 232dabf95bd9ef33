/// Replays a cached `chat.completion` as an SSE stream, for a streaming client whose request hit
/// the cache: one chunk per choice with the whole message as its delta, one finishing chunk per
/// choice, the usage chunk when the client asked for it, then `[DONE]`.
public enum CompletionReplay {
    public static func events(of completion: JSONValue, includeUsage: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var header: [(String, JSONValue)] = [
            ("id", completion["id"] ?? .string("chatcmpl-cached")), ("object", .string("chat.completion.chunk")),
            ("created", completion["created"] ?? .number("0")), ("model", completion["model"] ?? .string("")),
        ]
        if let fingerprint = completion["system_fingerprint"] { header.append(("system_fingerprint", fingerprint)) }
        func chunk(_ choices: [JSONValue], extra: [(String, JSONValue)] = []) {
            out.append(contentsOf: SSEEvent.encode(JSONWriter.bytes(.object(header + [("choices", .array(choices))] + extra))))
        }
        let choices = completion["choices"]?.arrayValue ?? []
        for choice in choices {
            let index = choice["index"] ?? .number("0")
            let message = choice["message"] ?? .object([])
            var delta: [(String, JSONValue)] = [("role", message["role"] ?? .string("assistant"))]
            if let content = message["content"] { delta.append(("content", content)) }
            if let refusal = message["refusal"], refusal != .null { delta.append(("refusal", refusal)) }
            if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
                let indexed: [JSONValue] = calls.enumerated().map { position, call in
                    guard case .object(let members) = call else { return call }
                    return .object([("index", .number(String(position)))] + members)
                }
                delta.append(("tool_calls", .array(indexed)))
            }
            chunk([.object([("index", index), ("delta", .object(delta)), ("logprobs", .null), ("finish_reason", .null)])])
        }
        for choice in choices {
            let index = choice["index"] ?? .number("0")
            chunk([.object([("index", index), ("delta", .object([])), ("logprobs", .null), ("finish_reason", choice["finish_reason"] ?? .string("stop"))])])
        }
        if includeUsage, let usage = completion["usage"] { chunk([], extra: [("usage", usage)]) }
        out.append(contentsOf: SSEEvent.encode(SSEEvent.done))
        return out
    }
}
