import Synchronization
import TollgateCore
import TollgateScreening

/// Screens one streamed response event by event, holding back a small window of text so an
/// entity split across chunks is still redacted, and flushing it before the stream ends.
///
/// Each choice (`n > 1`) and each of its tool calls has its own window: their chunks interleave, and
/// held-back text must come out where it came from. Tool-call arguments get the same screen as
/// content (they are what an agent acts on), with restored values escaped for the JSON they are in.
final class StreamScreen: Sendable {
    /// One stream of text: a choice's content (`tool` nil) or one tool call's arguments.
    private struct Slot: Hashable, Comparable {
        let choice: Int
        let tool: Int?

        /// Indexes are the provider's: clamped (OpenAI's `n` is at most 128) so a provider that numbers
        /// them wildly cannot make the windows grow without bound.
        init(choice: Int, tool: Int?) {
            self.choice = min(max(choice, 0), 128)
            self.tool = tool.map { min(max($0, 0), 128) }
        }

        static func < (a: Slot, b: Slot) -> Bool { (a.choice, a.tool ?? -1) < (b.choice, b.tool ?? -1) }
    }

    private struct State {
        var redactors: [Slot: StreamRedactor] = [:]
        /// The last chunk with choices, reused as the envelope of flush chunks.
        var template: JSONValue?
    }

    private let state = Mutex(State())
    private let runtime: ScreeningRuntime
    private let session: RedactionSession
    private let requestCounts: [PIIType: Int]
    private let types: Set<PIIType>
    private let window: Int

    init(runtime: ScreeningRuntime, session: RedactionSession) {
        self.runtime = runtime
        self.session = session
        self.requestCounts = session.counts
        self.types = runtime.settings.screenResponses ? runtime.redactTypes.union(runtime.blockTypes) : []
        self.window = max(runtime.settings.streamHoldback * 2, 32)
    }

    /// The bytes to send for one upstream event (possibly flush chunks followed by the event).
    func process(_ event: [UInt8]) -> [UInt8] {
        guard let data = SSEEvent.data(event) else { return event }
        if data == SSEEvent.done { return flush() + event }
        guard let json = try? JSONParser.parse(data) else {
            // What cannot be parsed cannot be screened: not relayed, but marked (clients skip SSE comments).
            return runtime.redactsResponses ? Array(": tollgate dropped an event it could not screen (not JSON)\n\n".utf8) : event
        }
        guard let choices = json["choices"]?.arrayValue, !choices.isEmpty else { return event }
        state.withLock { $0.template = json }
        var before: [UInt8] = []
        var rewritten: [JSONValue] = []
        var everythingHeld = true
        // An event nothing was taken from or put into goes out as it came, not re-encoded.
        var changed = false
        for choice in choices {
            let index = choice["index"]?.intValue ?? 0
            let finished = choice["finish_reason"].map { $0 != .null } ?? false
            guard var delta = choice["delta"] else {
                rewritten.append(choice)
                everythingHeld = false
                continue
            }
            var held = !finished
            var contentEnded = false
            if let content = delta["content"]?.stringValue {
                let text = screen(content, slot: Slot(choice: index, tool: nil), ending: finished)
                held = held && text.isEmpty
                contentEnded = finished
                if text != content {
                    changed = true
                    delta = delta.setting("content", to: .string(text))
                }
            }
            if let calls = delta["tool_calls"]?.arrayValue {
                let screened: [JSONValue] = calls.enumerated().map { position, call in
                    guard let function = call["function"], let arguments = function["arguments"]?.stringValue else {
                        held = false
                        return call
                    }
                    let slot = Slot(choice: index, tool: call["index"]?.intValue ?? position)
                    let text = screen(arguments, slot: slot, ending: false)
                    held = held && text.isEmpty && (call.objectValue?.count ?? 0) == 2 && (function.objectValue?.count ?? 0) == 1
                    if text == arguments { return call }
                    changed = true
                    return call.setting("function", to: function.setting("arguments", to: .string(text)))
                }
                delta = delta.setting("tool_calls", to: .array(screened))
            }
            var screened = choice.setting("delta", to: delta)
            // Log probabilities spell out the original tokens, redacted or not: they go when responses are redacted.
            if runtime.redactsResponses, let logprobs = choice["logprobs"], logprobs != .null {
                changed = true
                screened = screened.setting("logprobs", to: .null)
            }
            let otherKeys = (delta.objectValue ?? []).contains { $0.0 != "content" && $0.0 != "tool_calls" }
            if held && !otherKeys { rewritten.append(screened); continue }
            everythingHeld = false
            // A choice that ends: whatever its windows still hold goes out just before its last chunk.
            if finished { before += flush(choice: index, includingContent: !contentEnded) }
            rewritten.append(screened)
        }
        // Everything in this event is held back for now: send nothing rather than empty chunks.
        if everythingHeld { return before }
        guard changed else { return before + event }
        return before + SSEEvent.encode(JSONWriter.bytes(json.setting("choices", to: .array(rewritten))))
    }

    /// Releases whatever every window still holds, one chunk per window (empty when nothing is held).
    func flush() -> [UInt8] {
        let slots = state.withLock { $0.redactors.keys.sorted() }
        return slots.flatMap { flushChunk($0, text: take($0)) }
    }

    private func flush(choice: Int, includingContent: Bool) -> [UInt8] {
        let slots = state.withLock { $0.redactors.keys.filter { $0.choice == choice && ($0.tool != nil || includingContent) }.sorted() }
        return slots.flatMap { flushChunk($0, text: take($0)) }
    }

    /// Feeds `text` to the slot's window and returns what it releases, screened and restored.
    private func screen(_ text: String, slot: Slot, ending: Bool) -> String {
        let released = state.withLock { state -> String in
            var redactor = state.redactors[slot] ?? StreamRedactor(
                engine: runtime.engine, types: types, session: session, window: window, minimumHold: runtime.settings.streamHoldback)
            var out = redactor.feed(text)
            if ending { out += redactor.finish() }
            state.redactors[slot] = ending ? nil : redactor
            return out
        }
        return finalize(released, slot: slot)
    }

    /// What the slot still holds back; its window closes.
    private func take(_ slot: Slot) -> String {
        state.withLock { state in
            guard var redactor = state.redactors.removeValue(forKey: slot) else { return "" }
            return redactor.finish()
        }
    }

    private func flushChunk(_ slot: Slot, text rest: String) -> [UInt8] {
        guard !rest.isEmpty else { return [] }
        let text = finalize(rest, slot: slot)
        let delta: JSONValue =
            if let tool = slot.tool {
                .object([("tool_calls", .array([.object([("index", .number(String(tool))), ("function", .object([("arguments", .string(text))]))])]))])
            } else {
                .object([("content", .string(text))])
            }
        let envelope = state.withLock { $0.template } ?? .object([("object", .string("chat.completion.chunk"))])
        let chunk = envelope.setting("choices", to: .array([.object([
            ("index", .number(String(slot.choice))), ("delta", delta), ("finish_reason", .null),
        ])]))
        return SSEEvent.encode(JSONWriter.bytes(chunk))
    }

    private func finalize(_ text: String, slot: Slot) -> String {
        guard runtime.settings.restore else { return text }
        return session.restore(text, issuedBefore: requestCounts, escape: slot.tool == nil ? { $0 } : JSONStringEscape.escaped)
    }
}
