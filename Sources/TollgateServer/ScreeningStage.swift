import Logging
import TollgateCore
import TollgateScreening

/// What input screening decided for a request that may proceed.
struct ScreenedRequest: Sendable {
    /// For `x-tollgate-flags`: rule ids of flagged injections and redacted entity types.
    var flags: [String] = []
    /// Placeholder numbering shared by the request, its response and its stream.
    var session: RedactionSession?
    /// Placeholders per type issued for the request, so restore never un-redacts response-only PII.
    var requestCounts: [PIIType: Int] = [:]
}

/// Injection and PII screening of one request and its response.
///
/// Every message role is scanned (tool results and quoted documents carry indirect
/// injections). A block names rule ids only, never matched text; redaction replaces values
/// with typed placeholders before anything leaves the gateway.
struct ScreeningStage: Sendable {
    let runtime: ScreeningRuntime?

    func screenRequest(_ chat: inout ChatCompletionRequest, logger: Logger) throws -> ScreenedRequest {
        guard let runtime else { return ScreenedRequest() }
        var result = ScreenedRequest()
        if runtime.settings.injectionAction != .off {
            var rules: [String] = []
            for message in chat.messages where !message.text.isEmpty {
                let verdict = runtime.engine.scanInjection(message.text)
                if verdict.isInjection { rules.append(contentsOf: verdict.ruleIDs) }
            }
            let unique = Array(Set(rules)).sorted()
            if !unique.isEmpty {
                logger.warning("prompt injection detected", metadata: ["screening.rules": .string(unique.joined(separator: ",")), "screening.action": .string(runtime.settings.injectionAction.rawValue)])
                if runtime.settings.injectionAction == .block { throw GatewayError.policyViolation(rules: unique) }
                result.flags.append(contentsOf: unique.map { "injection:\($0)" })
            }
        }
        guard !runtime.redactTypes.isEmpty || !runtime.blockTypes.isEmpty else { return result }
        if !runtime.blockTypes.isEmpty {
            for message in chat.messages where !message.text.isEmpty {
                let found = runtime.engine.findPII(message.text, types: runtime.blockTypes)
                if let first = found.first {
                    logger.warning("request blocked for PII", metadata: ["screening.pii": .string(first.type.rawValue)])
                    throw GatewayError.policyViolation(rules: Array(Set(found.map { "pii:\($0.type.rawValue)" })).sorted())
                }
            }
        }
        guard !runtime.redactTypes.isEmpty else { return result }
        let session = RedactionSession()
        session.reservePlaceholderNumbers(in: chat.messages.lazy.map(\.text))
        result.session = session
        let redacted = MessageRedactor.redact(chat.body, engine: runtime.engine, types: runtime.redactTypes, session: session)
        if redacted.changed {
            chat.overrides.append(("messages", .array(redacted.messages)))
            chat.messages = redacted.messages.map {
                ChatMessageText(role: $0["role"]?.stringValue ?? "", text: (try? MessageContent.screenableText(of: $0, param: "")) ?? "")
            }
            result.requestCounts = session.counts
            result.flags.append(contentsOf: session.counts.keys.map { "redacted:\($0.rawValue)" }.sorted())
        }
        return result
    }

    /// PII screening of embeddings inputs: block types refuse, redact types are replaced in the text
    /// before it leaves (an embedding of an email still carries the email to the provider). Injection
    /// rules do not apply: an embedding model follows no instructions, and indexing a document that
    /// quotes an attack is legitimate. Token-id inputs carry no text and pass as they are.
    func screenEmbeddingInput(_ embedding: EmbeddingsRequest, logger: Logger) throws -> (input: JSONValue?, flags: [String]) {
        guard let runtime, !runtime.redactTypes.isEmpty || !runtime.blockTypes.isEmpty, let input = embedding.body["input"] else { return (nil, []) }
        if !runtime.blockTypes.isEmpty {
            for text in embedding.inputs {
                let found = runtime.engine.findPII(text, types: runtime.blockTypes)
                if let first = found.first {
                    logger.warning("embeddings request blocked for PII", metadata: ["screening.pii": .string(first.type.rawValue)])
                    throw GatewayError.policyViolation(rules: Array(Set(found.map { "pii:\($0.type.rawValue)" })).sorted())
                }
            }
        }
        guard !runtime.redactTypes.isEmpty else { return (nil, []) }
        let session = RedactionSession()
        func redact(_ value: JSONValue) -> JSONValue {
            guard case .string(let text) = value else { return value }
            return .string(runtime.engine.redact(text, types: runtime.redactTypes, session: session))
        }
        let redacted: JSONValue
        switch input {
        case .string: redacted = redact(input)
        case .array(let items): redacted = .array(items.map(redact))
        default: return (nil, [])
        }
        guard redacted != input else { return (nil, []) }
        return (redacted, session.counts.keys.map { "redacted:\($0.rawValue)" }.sorted())
    }

    /// Whether responses get the request's values put back (`restore: true`).
    var restores: Bool { runtime?.settings.restore ?? false }

    /// A non-streamed response with PII redacted (or restored, when configured and `restoring`; the
    /// response cache keeps the unrestored form, so it never holds a value the request had redacted).
    func screenResponse(_ body: [UInt8], parsed: JSONValue?, screened: ScreenedRequest, logger: Logger, restoring: Bool = true) -> [UInt8] {
        let restore = restoring && restores
        guard let runtime, runtime.settings.screenResponses || restore, let parsed else { return body }
        let session = screened.session ?? RedactionSession()
        // Only what the request itself issued is restored: placeholders the response screen adds (now
        // or in an earlier pass over this body) stay redacted.
        let requestCounts = screened.requestCounts
        guard let choices = parsed["choices"]?.arrayValue else { return body }
        var changed = false
        let newChoices: [JSONValue] = choices.map { choice in
            guard var message = choice["message"] else { return choice }
            var messageChanged = false
            if let content = message["content"]?.stringValue {
                let screened = screenText(content, runtime: runtime, session: session, requestCounts: requestCounts, restoring: restore)
                if screened != content {
                    messageChanged = true
                    message = message.setting("content", to: .string(screened))
                }
            }
            // Tool-call arguments are what an agent acts on: the same screen, restored values
            // escaped for the JSON text the arguments are.
            if let screenedCalls = ToolCallArguments.mapped(in: message, {
                screenText($0, runtime: runtime, session: session, requestCounts: requestCounts, restoring: restore, insideJSONString: true)
            }) {
                messageChanged = true
                message = screenedCalls
            }
            var out = messageChanged ? choice.setting("message", to: message) : choice
            // Log probabilities spell out the original tokens, redacted or not: they go when responses are redacted.
            if runtime.redactsResponses, let logprobs = choice["logprobs"], logprobs != .null {
                out = out.setting("logprobs", to: .null)
                messageChanged = true
            }
            if messageChanged { changed = true }
            return out
        }
        guard changed else { return body }
        return JSONWriter.bytes(parsed.setting("choices", to: .array(newChoices)))
    }

    /// Whether this request's responses are redacted (a body that cannot be parsed cannot be).
    var redactsResponses: Bool { runtime?.redactsResponses ?? false }

    func screenText(
        _ text: String, runtime: ScreeningRuntime, session: RedactionSession, requestCounts: [PIIType: Int], restoring: Bool = true,
        insideJSONString: Bool = false
    ) -> String {
        var out = text
        if runtime.redactsResponses {
            out = runtime.engine.redact(out, types: runtime.redactTypes.union(runtime.blockTypes), session: session)
        }
        if restoring && runtime.settings.restore {
            out = session.restore(out, issuedBefore: requestCounts, escape: insideJSONString ? JSONStringEscape.escaped : { $0 })
        }
        return out
    }

    /// The per-stream screen for a streamed response, or nil when nothing needs screening.
    func streamScreen(session: RedactionSession?) -> StreamScreen? {
        guard let runtime, runtime.redactsResponses || (runtime.settings.restore && session != nil) else { return nil }
        return StreamScreen(runtime: runtime, session: session ?? RedactionSession())
    }
}

/// Redacts the text of every message (string content, text parts, and the arguments of an
/// assistant's earlier tool calls) in a chat body.
enum MessageRedactor {
    static func redact(_ body: JSONValue, engine: ScreeningEngine, types: Set<PIIType>, session: RedactionSession) -> (messages: [JSONValue], changed: Bool) {
        guard let messages = body["messages"]?.arrayValue else { return ([], false) }
        var changed = false
        let out: [JSONValue] = messages.map { original in
            var message = original
            if let redactedCalls = ToolCallArguments.mapped(in: original, { engine.redact($0, types: types, session: session) }) {
                changed = true
                message = redactedCalls
            }
            switch message["content"] {
            case .some(.string(let text)):
                let redacted = engine.redact(text, types: types, session: session)
                if redacted == text { return message }
                changed = true
                return message.setting("content", to: .string(redacted))
            case .some(.array(let parts)):
                var partChanged = false
                let newParts: [JSONValue] = parts.map { part in
                    guard let text = part["text"]?.stringValue else { return part }
                    let redacted = engine.redact(text, types: types, session: session)
                    if redacted == text { return part }
                    partChanged = true
                    return part.setting("text", to: .string(redacted))
                }
                if !partChanged { return message }
                changed = true
                return message.setting("content", to: .array(newParts))
            default:
                return message
            }
        }
        return (out, changed)
    }
}

/// The `function.arguments` text of a message's tool calls, screened like content on the way in and out.
enum ToolCallArguments {
    /// `message` with every tool call's arguments passed through `transform`, or nil when none changed
    /// (so an untouched message is neither rebuilt nor re-encoded).
    static func mapped(in message: JSONValue, _ transform: (String) -> String) -> JSONValue? {
        guard let calls = message["tool_calls"]?.arrayValue else { return nil }
        var changed = false
        let mapped: [JSONValue] = calls.map { call in
            guard let function = call["function"], let arguments = function["arguments"]?.stringValue else { return call }
            let transformed = transform(arguments)
            if transformed == arguments { return call }
            changed = true
            return call.setting("function", to: function.setting("arguments", to: .string(transformed)))
        }
        return changed ? message.setting("tool_calls", to: .array(mapped)) : nil
    }
}

/// A value put back inside JSON text (tool-call arguments): escaped as a JSON string's content, so a
/// restored value with a quote, backslash or newline (a PEM key) keeps the arguments valid JSON.
enum JSONStringEscape {
    static func escaped(_ value: String) -> String {
        let quoted = JSONWriter.bytes(.string(value))
        return String(decoding: quoted.dropFirst().dropLast(), as: UTF8.self)
    }
}
