/// The injection screen's answer for one message. It names rules, never matched text, so it can be
/// returned to clients and written to the audit trail without echoing an attack or PII.
public struct InjectionVerdict: Sendable, Equatable {
    /// Sum of the weights of the distinct rules that matched.
    public let score: Double
    /// Ids of the matching rules, in pack order.
    public let ruleIDs: [String]
    /// Whether `score` reached the engine's threshold.
    public let isInjection: Bool
    /// True when a pattern hit its PCRE2 match limit on this input and was skipped; worth flagging.
    public let hitMatchLimit: Bool

    public init(score: Double, ruleIDs: [String], isInjection: Bool, hitMatchLimit: Bool = false) {
        self.score = score
        self.ruleIDs = ruleIDs
        self.isInjection = isInjection
        self.hitMatchLimit = hitMatchLimit
    }
}
