/// One PII entity found in a text. Offsets are given both as a `String.Index` range (for Swift callers
/// that splice the text) and as Unicode code-point offsets (the `tollgate screen` contract, which is
/// how Python and most JSON consumers index strings).
public struct PIIFinding: Sendable, Equatable {
    public let type: PIIType
    /// Id of the pack rule that found it, for diagnostics.
    public let ruleID: String
    public let range: Range<String.Index>
    /// Code-point offset of the first character.
    public let start: Int
    /// Code-point offset one past the last character.
    public let end: Int
}
