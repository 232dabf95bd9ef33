import Synchronization

/// Placeholder numbering and the original values for one request.
///
/// A request's input screening, output screening and stream redaction may run on different tasks,
/// so the state sits behind a `Mutex`; the session is safe to share. Originals live only as long as
/// the session: drop it when the request ends.
public final class RedactionSession: Sendable {
    private struct State {
        var counters: [PIIType: Int] = [:]
        /// The highest number of a placeholder-shaped token per type already in the request text;
        /// issued numbers start above it.
        var floors: [PIIType: Int] = [:]
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
            let issued = (state.counters[type] ?? 0) + 1
            state.counters[type] = issued
            let placeholder = "[\(type.rawValue)_\((state.floors[type] ?? 0) + issued)]"
            state.placeholderByValue[key] = placeholder
            state.valueByPlaceholder[placeholder] = value
            return placeholder
        }
    }

    /// Tokens above this number are not reserved: a session never issues that many placeholders
    /// (bodies are size-bounded), and the bound keeps the numbering far from overflow.
    static let maxReservedNumber = 1_000_000

    /// Numbers this session's placeholders past every placeholder-shaped token (`[EMAIL_1]`)
    /// already in `texts`, so restore never rewrites text the client typed into a redacted value.
    /// Call with the request's texts before the first `placeholder(for:type:)`. One linear pass.
    public func reservePlaceholderNumbers(in texts: some Sequence<String>) {
        var floors: [PIIType: Int] = [:]
        for text in texts {
            var open: String.Index?
            var index = text.startIndex
            while index < text.endIndex {
                let character = text[index]
                if character == "[" {
                    open = index
                } else if character == "]", let start = open {
                    if let (type, number) = Self.parsePlaceholder(text[start...index]), number <= Self.maxReservedNumber {
                        floors[type] = max(floors[type] ?? 0, number)
                    }
                    open = nil
                }
                index = text.index(after: index)
            }
        }
        guard !floors.isEmpty else { return }
        state.withLock { state in
            for (type, number) in floors { state.floors[type] = max(state.floors[type] ?? 0, number) }
        }
    }

    /// `[EMAIL_12]` as (type, number); nil for any other bracketed text.
    static func parsePlaceholder(_ token: Substring) -> (PIIType, Int)? {
        guard token.first == "[", token.last == "]" else { return nil }
        let inner = token.dropFirst().dropLast()
        guard let underscore = inner.lastIndex(of: "_") else { return nil }
        let digits = inner[inner.index(after: underscore)...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(digits), let type = PIIType(rawValue: String(inner[..<underscore]))
        else { return nil }
        return (type, number)
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
    /// so PII that first appears in a response stays redacted even when `restore` is on. `escape`
    /// encodes each value for where it lands (inside a JSON string for tool-call arguments).
    public func restore(_ text: String, issuedBefore counts: [PIIType: Int], escape: (String) -> String = { $0 }) -> String {
        let (originals, floors) = state.withLock { ($0.valueByPlaceholder, $0.floors) }
        guard !originals.isEmpty else { return text }
        return Self.replacePlaceholders(in: text) { placeholder in
            Self.isRequestPlaceholder(placeholder, counts: counts, floors: floors) ? originals[String(placeholder)].map(escape) : nil
        }
    }

    /// Issued numbers start above the type's floor, so the request's own are floor+1...floor+count.
    private static func isRequestPlaceholder(_ placeholder: Substring, counts: [PIIType: Int], floors: [PIIType: Int]) -> Bool {
        guard let (type, number) = parsePlaceholder(placeholder) else { return false }
        return number <= (floors[type] ?? 0) + (counts[type] ?? 0)
    }
}
