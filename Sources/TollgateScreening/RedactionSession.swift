import Synchronization

/// Placeholder numbering and the original values for one request.
///
/// A request's input screening, output screening and stream redaction may run on different tasks,
/// so the state sits behind a `Mutex`; the session is safe to share. Originals live only as long as
/// the session: drop it when the request ends.
public final class RedactionSession: Sendable {
    private struct State {
        var counters: [PIIType: Int] = [:]
        var placeholderByValue: [String: String] = [:]
        var valueByPlaceholder: [String: String] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The placeholder for `value`; the same value always gets the same placeholder within a session.
    public func placeholder(for value: String, type: PIIType) -> String {
        state.withLock { state in
            let key = type.rawValue + "\u{0}" + value
            if let existing = state.placeholderByValue[key] { return existing }
            let number = (state.counters[type] ?? 0) + 1
            state.counters[type] = number
            let placeholder = "[\(type.rawValue)_\(number)]"
            state.placeholderByValue[key] = placeholder
            state.valueByPlaceholder[placeholder] = value
            return placeholder
        }
    }

    /// How many placeholders were handed out, per type (for flags and the audit trail, never values).
    public var counts: [PIIType: Int] { state.withLock { $0.counters } }

    /// Puts original values back for every placeholder this session issued; other bracketed text is left.
    public func restore(_ text: String) -> String {
        let originals = state.withLock { $0.valueByPlaceholder }
        guard !originals.isEmpty else { return text }
        return Self.replacePlaceholders(in: text) { originals[String($0)] }
    }

    /// Replaces every `[...]` span for which `original` returns a value.
    static func replacePlaceholders(in text: String, original: (Substring) -> String?) -> String {
        guard text.contains("[") else { return text }
        var result = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "[") {
            result += rest[..<open]
            let tail = rest[open...]
            if let close = tail.firstIndex(of: "]"), let value = original(tail[...close]) {
                result += value
                rest = tail[tail.index(after: close)...]
            } else {
                result.append("[")
                rest = tail.dropFirst()
            }
        }
        result += rest
        return result
    }
}

extension RedactionSession {
    /// Restores only placeholders issued before `counts` was taken (the request's own values),
    /// so PII that first appears in a response stays redacted even when `restore` is on.
    public func restore(_ text: String, issuedBefore counts: [PIIType: Int]) -> String {
        let originals = state.withLock { $0.valueByPlaceholder }
        guard !originals.isEmpty else { return text }
        return Self.replacePlaceholders(in: text) { placeholder in
            Self.isRequestPlaceholder(placeholder, counts: counts) ? originals[String(placeholder)] : nil
        }
    }

    private static func isRequestPlaceholder(_ placeholder: Substring, counts: [PIIType: Int]) -> Bool {
        let inner = placeholder.dropFirst().dropLast()
        guard let underscore = inner.lastIndex(of: "_"), let number = Int(inner[inner.index(after: underscore)...]),
            let type = PIIType(rawValue: String(inner[..<underscore]))
        else { return false }
        return number <= (counts[type] ?? 0)
    }
}
