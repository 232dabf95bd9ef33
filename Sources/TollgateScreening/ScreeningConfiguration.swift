/// What a policy's `screening:` block asks for, in the form the server needs per request.
public struct ScreeningConfiguration: Sendable, Equatable {
    /// What happens to a message whose injection score reaches the threshold.
    public enum InjectionAction: String, Sendable { case block, flag }
    /// What happens to a PII entity of a given type.
    public enum PIIAction: String, Sendable { case redact, block, allow }

    /// Injection packs, resolved to file paths (relative paths resolve against the policy file's folder).
    public var injectionPackPaths: [String]
    public var piiPackPath: String?
    public var injectionThreshold: Double
    public var injectionAction: InjectionAction
    /// Per-entity actions; types not listed are allowed.
    public var piiActions: [PIIType: PIIAction]
    /// Put original values back into the response the client sees.
    public var restore: Bool

    public init(
        injectionPackPaths: [String], piiPackPath: String?, injectionThreshold: Double = 1.0,
        injectionAction: InjectionAction = .block, piiActions: [PIIType: PIIAction] = [:], restore: Bool = false
    ) {
        self.injectionPackPaths = injectionPackPaths
        self.piiPackPath = piiPackPath
        self.injectionThreshold = injectionThreshold
        self.injectionAction = injectionAction
        self.piiActions = piiActions
        self.restore = restore
    }

    /// Types whose values are replaced with placeholders before text leaves the gateway.
    public var redactedTypes: Set<PIIType> { Set(piiActions.filter { $0.value == .redact }.keys) }
    /// Types whose presence rejects the request.
    public var blockedTypes: Set<PIIType> { Set(piiActions.filter { $0.value == .block }.keys) }
}
