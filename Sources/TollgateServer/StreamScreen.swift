import Synchronization
import TollgateCore
import TollgateScreening

/// Screens one streamed response event by event, holding back a small window of text so an
/// entity split across chunks is still redacted, and flushing it before the stream ends.
final class StreamScreen: Sendable {
    private struct State {
        var redactor: StreamRedactor
        /// The last content chunk, reused as the envelope of the flush chunk.
        var template: JSONValue?
    }

    private let state: Mutex<State>
    private let runtime: ScreeningRuntime
    private let session: RedactionSession
    private let requestCounts: [PIIType: Int]

    init(runtime: ScreeningRuntime, session: RedactionSession) {
        self.runtime = runtime
        self.session = session
        self.requestCounts = session.counts
        let types = runtime.settings.screenResponses ? runtime.redactTypes.union(runtime.blockTypes) : []
        let window = max(runtime.settings.streamHoldback * 2, 32)
        self.state = Mutex(State(
            redactor: StreamRedactor(engine: runtime.engine, types: types, session: session, window: window, minimumHold: runtime.settings.streamHoldback),
            template: nil))
    }

    /// The bytes to send for one upstream event (possibly a flush chunk followed by the event).
    func process(_ event: [UInt8]) -> [UInt8] {
        guard let data = SSEEvent.data(event) else { return event }
        if data == SSEEvent.done { return flush() + event }
        guard let json = try? JSONParser.parse(data), let choices = json["choices"]?.arrayValue, let first = choices.first else { return event }
        var out: [UInt8] = []
        if let delta = first["delta"], let content = delta["content"]?.stringValue {
            let released = state.withLock { state -> String in
                state.template = json
                return state.redactor.feed(content)
            }
            let text = finalize(released)
            let finished = first["finish_reason"].map { $0 != .null } ?? false
            if text.isEmpty && !finished && choices.count == 1 && (delta.objectValue?.count ?? 0) == 1 {
                // Everything in this delta is held back for now: send nothing rather than an empty chunk.
                return []
            }
            let rewritten = json.setting("choices", to: .array([first.setting("delta", to: delta.setting("content", to: .string(text)))] + choices.dropFirst()))
            out += SSEEvent.encode(JSONWriter.bytes(rewritten))
        } else {
            out += event
        }
        if let finish = first["finish_reason"], finish != .null {
            // Emit held-back text before the chunk that ends the choice.
            let flushed = flush()
            if !flushed.isEmpty {
                if first["delta"]?["content"]?.stringValue != nil {
                    return out + flushed
                }
                return flushed + out
            }
        }
        return out
    }

    /// Releases whatever is held back as one content chunk (empty when nothing is held).
    func flush() -> [UInt8] {
        let (rest, template) = state.withLock { state in (state.redactor.finish(), state.template) }
        guard !rest.isEmpty else { return [] }
        let text = finalize(rest)
        let envelope = template ?? .object([("object", .string("chat.completion.chunk"))])
        let chunk = envelope.setting("choices", to: .array([.object([
            ("index", .number("0")), ("delta", .object([("content", .string(text))])), ("finish_reason", .null),
        ])]))
        return SSEEvent.encode(JSONWriter.bytes(chunk))
    }

    private func finalize(_ text: String) -> String {
        runtime.settings.restore ? session.restore(text, issuedBefore: requestCounts) : text
    }
}
