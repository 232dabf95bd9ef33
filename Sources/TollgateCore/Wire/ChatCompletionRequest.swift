/// One chat message reduced to what policy stages read: its role and its plain text.
public struct ChatMessageText: Sendable, Equatable {
    public var role: String
    public var text: String

    public init(role: String, text: String) {
        self.role = role
        self.text = text
    }
}

/// A validated view of a `/v1/chat/completions` body that keeps the original bytes.
///
/// Stages read the typed fields; the upstream receives the original body with only the
/// fields the gateway must change rewritten, so clients' unknown fields pass untouched.
public struct ChatCompletionRequest: Sendable {
    public var body: JSONValue
    public var bytes: [UInt8]
    public var spans: [String: Range<Int>]
    public var model: String
    public var stream: Bool
    public var messages: [ChatMessageText]
    public var maxTokens: Int?
    /// `n`: how many choices the provider generates, each up to `maxTokens` (and each billed).
    public var choiceCount: Int = 1
    public var user: String?
    public var toolCount: Int
    /// Whether the client itself asked for the usage chunk at the end of a stream.
    public var clientWantsStreamUsage: Bool
    /// Sampling temperature, when given; a cache only stores deterministic answers.
    public var temperature: Double?
    /// Fields the gateway changes before forwarding (redacted messages, stream options), applied
    /// together with `model` to the original bytes in one pass.
    public var overrides: [(String, JSONValue)] = []

    /// The body to send upstream: the client's bytes with `model` and the overrides spliced in.
    public func forwardBody(model: String) -> [UInt8] {
        BodyRewriter.replacing([("model", .string(model))] + overrides, in: bytes, spans: spans)
    }

    public static func parse(_ bytes: [UInt8]) throws(GatewayError) -> ChatCompletionRequest {
        let (body, spans) = try RequestParsing.object(bytes)
        let model = try RequestParsing.requiredModel(body)
        let stream = try RequestParsing.optionalBool(body, "stream") ?? false
        guard let rawMessages = body["messages"] else {
            throw .invalidRequest("Missing required parameter: 'messages'.", param: "messages")
        }
        guard let list = rawMessages.arrayValue else {
            throw .invalidRequest("Invalid type for 'messages': expected an array.", param: "messages")
        }
        if list.isEmpty { throw .invalidRequest("'messages' must contain at least one message.", param: "messages") }
        var messages: [ChatMessageText] = []
        messages.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard case .object = item else {
                throw .invalidRequest("Invalid type for 'messages[\(i)]': expected an object.", param: "messages[\(i)]")
            }
            guard let role = item["role"]?.stringValue else {
                throw .invalidRequest("Missing or invalid 'messages[\(i)].role'.", param: "messages[\(i)].role")
            }
            let text = try MessageContent.screenableText(of: item, param: "messages[\(i)]")
            messages.append(ChatMessageText(role: role, text: text))
        }
        let maxCompletionTokens = try RequestParsing.optionalInt(body, "max_completion_tokens")
        let legacyMaxTokens = try RequestParsing.optionalInt(body, "max_tokens")
        let maxTokens = maxCompletionTokens ?? legacyMaxTokens
        var wantsUsage = false
        if let options = body["stream_options"] {
            guard case .object = options else {
                throw .invalidRequest("Invalid type for 'stream_options': expected an object.", param: "stream_options")
            }
            wantsUsage = options["include_usage"]?.boolValue ?? false
        }
        let user: String?
        switch body["user"] {
        case nil, .some(.null): user = nil
        case .some(.string(let s)): user = s
        default: throw .invalidRequest("Invalid type for 'user': expected a string.", param: "user")
        }
        let temperature: Double?
        switch body["temperature"] {
        case nil, .some(.null): temperature = nil
        case .some(let value):
            guard let t = value.doubleValue else {
                throw .invalidRequest("Invalid type for 'temperature': expected a number.", param: "temperature")
            }
            temperature = t
        }
        let choices = try RequestParsing.optionalInt(body, "n") ?? 1
        return ChatCompletionRequest(
            body: body, bytes: bytes, spans: spans, model: model, stream: stream, messages: messages,
            maxTokens: maxTokens, choiceCount: min(max(choices, 1), 128), user: user, toolCount: body["tools"]?.arrayValue?.count ?? 0,
            clientWantsStreamUsage: wantsUsage, temperature: temperature, overrides: [])
    }
}

/// Extracts the text a policy stage should look at from a message's `content`.
public enum MessageContent {
    /// Joins text parts of multi-part content; images and audio contribute nothing.
    public static func text(of content: JSONValue?, param: String) throws(GatewayError) -> String {
        switch content {
        case nil, .some(.null): return ""
        case .some(.string(let s)): return s
        case .some(.array(let parts)):
            var pieces: [String] = []
            for part in parts {
                if let text = part["text"]?.stringValue { pieces.append(text) }
            }
            return pieces.joined(separator: "\n")
        default:
            throw .invalidRequest("Invalid type for '\(param)': expected a string or an array of content parts.", param: param)
        }
    }

    /// A message's content text and, for an assistant's tool calls, their arguments: everything a
    /// screen must see. An agent sends its earlier tool calls back in the history, and their
    /// arguments carry what it got back (restored PII included).
    public static func screenableText(of message: JSONValue, param: String) throws(GatewayError) -> String {
        var text = try self.text(of: message["content"], param: param + ".content")
        for call in message["tool_calls"]?.arrayValue ?? [] {
            guard let arguments = call["function"]?["arguments"]?.stringValue, !arguments.isEmpty else { continue }
            text += text.isEmpty ? arguments : "\n" + arguments
        }
        return text
    }
}

/// Shared checks for the top-level fields every proxied endpoint has.
public enum RequestParsing {
    /// Parses a client body, refusing duplicate keys at any depth: the gateway screens one
    /// value while a provider's parser may act on another, so a duplicate is never forwarded.
    public static func object(_ bytes: [UInt8]) throws(GatewayError) -> (JSONValue, [String: Range<Int>]) {
        do {
            return try JSONParser.parseObjectWithSpans(bytes, rejectDuplicateKeys: true)
        } catch {
            if let key = error.duplicateKey {
                let shown = key.count > 64 ? String(key.prefix(64)) + "..." : key
                throw .invalidRequest(
                    "The JSON body of your request has the key '\(shown)' more than once in one object; "
                        + "send each key once.")
            }
            throw .invalidRequest("We could not parse the JSON body of your request: \(error.description).")
        }
    }

    public static func requiredModel(_ body: JSONValue) throws(GatewayError) -> String {
        guard let value = body["model"] else {
            throw .invalidRequest("Missing required parameter: 'model'.", param: "model")
        }
        guard let model = value.stringValue, !model.isEmpty else {
            throw .invalidRequest("Invalid type for 'model': expected a non-empty string.", param: "model")
        }
        return model
    }

    public static func optionalBool(_ body: JSONValue, _ key: String) throws(GatewayError) -> Bool? {
        switch body[key] {
        case nil, .some(.null): return nil
        case .some(.bool(let b)): return b
        default: throw .invalidRequest("Invalid type for '\(key)': expected a boolean.", param: key)
        }
    }

    public static func optionalInt(_ body: JSONValue, _ key: String) throws(GatewayError) -> Int? {
        switch body[key] {
        case nil, .some(.null): return nil
        case .some(let value):
            guard let n = value.intValue, n >= 0 else {
                throw .invalidRequest("Invalid type for '\(key)': expected a non-negative integer.", param: key)
            }
            return n
        }
    }
}

/// A validated view of a `/v1/embeddings` body.
public struct EmbeddingsRequest: Sendable {
    public var body: JSONValue
    public var bytes: [UInt8]
    public var spans: [String: Range<Int>]
    public var model: String
    /// The text inputs (token-id inputs contribute no text).
    public var inputs: [String]

    public static func parse(_ bytes: [UInt8]) throws(GatewayError) -> EmbeddingsRequest {
        let (body, spans) = try RequestParsing.object(bytes)
        let model = try RequestParsing.requiredModel(body)
        var inputs: [String] = []
        switch body["input"] {
        case nil: throw .invalidRequest("Missing required parameter: 'input'.", param: "input")
        case .some(.string(let s)): inputs = [s]
        case .some(.array(let items)):
            if items.isEmpty { throw .invalidRequest("'input' must not be empty.", param: "input") }
            for item in items {
                switch item {
                case .string(let s): inputs.append(s)
                case .number, .array: continue
                default: throw .invalidRequest("Invalid type for 'input': expected strings or token arrays.", param: "input")
                }
            }
        default: throw .invalidRequest("Invalid type for 'input': expected a string or an array.", param: "input")
        }
        return EmbeddingsRequest(body: body, bytes: bytes, spans: spans, model: model, inputs: inputs)
    }
}

/// Rewrites top-level fields of a JSON object body in one pass, keeping every other byte as sent.
public enum BodyRewriter {
    /// Replaces each field (or inserts it after the opening brace when absent). `spans` are the
    /// value spans of the original `bytes`, from `JSONParser.parseObjectWithSpans`.
    public static func replacing(_ fields: [(String, JSONValue)], in bytes: [UInt8], spans: [String: Range<Int>]) -> [UInt8] {
        var present: [(Range<Int>, JSONValue)] = []
        var absent: [(String, JSONValue)] = []
        for (key, value) in fields {
            if let span = spans[key] { present.append((span, value)) } else { absent.append((key, value)) }
        }
        present.sort { $0.0.lowerBound < $1.0.lowerBound }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64)
        var cursor = 0
        if !absent.isEmpty, let open = bytes.firstIndex(of: UInt8(ascii: "{")) {
            out.append(contentsOf: bytes[...open])
            for (i, (key, value)) in absent.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONWriter.write(value, into: &out)
            }
            let rest = bytes[(open + 1)...]
            if rest.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == UInt8(ascii: "}")) }) {
                out.append(UInt8(ascii: ","))
            }
            cursor = open + 1
        }
        for (span, value) in present {
            out.append(contentsOf: bytes[cursor..<span.lowerBound])
            JSONWriter.write(value, into: &out)
            cursor = span.upperBound
        }
        out.append(contentsOf: bytes[cursor...])
        return out
    }

    public static func replacing(_ key: String, with value: JSONValue, in bytes: [UInt8], spans: [String: Range<Int>]) -> [UInt8] {
        replacing([(key, value)], in: bytes, spans: spans)
    }
}
