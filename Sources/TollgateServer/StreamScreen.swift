import Synchronization
import TollgateCore
import TollgateScreening

/// Screens one streamed response event by event, holding back a small window of text so an
/// entity split across chunks is still redacted, and flushing it before the stream ends.
///
/// Each choice (`n > 1`) has its own window: their chunks interleave, and one choice's held-back
/// text must come out in that choice, not in whichever chunk comes next.
final class StreamScreen: Sendable {
    private struct State {
        var redactors: [Int: StreamRedactor] = [:]
        /// The last content chunk, reused as the envelope of flush chunks.
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
        guard let json = try? JSONParser.parse(data), let choices = json["choices"]?.arrayValue, !choices.isEmpty else { return event }
        var before: [UInt8] = []
        var rewritten: [JSONValue] = []
        var everythingHeld = true
        for choice in choices {
            let index = choice["index"]?.intValue ?? 0
            let finished = choice["finish_reason"].map { $0 != .null } ?? false
            guard let delta = choice["delta"], let content = delta["content"]?.stringValue else {
                // A choice ending without text of its own: what it still holds goes out just before.
                if finished { before += flushChunk(index: index, text: take(index)) }
                rewritten.append(choice)
                everythingHeld = false
                continue
            }
            let released = state.withLock { state -> String in
                state.template = json
                var redactor = state.redactors[index] ?? makeRedactor()
                var out = redactor.feed(content)
                if finished { out += redactor.finish() }
                state.redactors[index] = finished ? nil : redactor
                return out
            }
            let text = finalize(released)
            if !(text.isEmpty && !finished && (delta.objectValue?.count ?? 0) == 1) { everythingHeld = false }
            rewritten.append(choice.setting("delta", to: delta.setting("content", to: .string(text))))
        }
        // Everything in this event is held back for now: send nothing rather than empty chunks.
        if everythingHeld { return before }
        return before + SSEEvent.encode(JSONWriter.bytes(json.setting("choices", to: .array(rewritten))))
    }

    /// Releases whatever every choice still holds, one content chunk per choice (empty when nothing is held).
    func flush() -> [UInt8] {
        let indexes = state.withLock { $0.redactors.keys.sorted() }
        return indexes.flatMap { flushChunk(index: $0, text: take($0)) }
    }

    private func makeRedactor() -> StreamRedactor {
        StreamRedactor(engine: runtime.engine, types: types, session: session, window: window, minimumHold: runtime.settings.streamHoldback)
    }

    /// What choice `index` still holds back; its window closes.
    private func take(_ index: Int) -> String {
        state.withLock { state in
            guard var redactor = state.redactors.removeValue(forKey: index) else { return "" }
            return redactor.finish()
        }
    }

    private func flushChunk(index: Int, text rest: String) -> [UInt8] {
        guard !rest.isEmpty else { return [] }
        let text = finalize(rest)
        let envelope = state.withLock { $0.template } ?? .object([("object", .string("chat.completion.chunk"))])
        let chunk = envelope.setting("choices", to: .array([.object([
            ("index", .number(String(index))), ("delta", .object([("content", .string(text))])), ("finish_reason", .null),
        ])]))
        return SSEEvent.encode(JSONWriter.bytes(chunk))
    }

    private func finalize(_ text: String) -> String {
        runtime.settings.restore ? session.restore(text, issuedBefore: requestCounts) : text
    }
}
