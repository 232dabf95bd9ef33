import TollgateCore
import TollgateScreening

/// Compiled screening for one policy version: the PCRE2 engine and what to do with findings.
struct ScreeningRuntime: Sendable {
    let engine: ScreeningEngine
    let settings: ScreeningSettings
    let redactTypes: Set<PIIType>
    let blockTypes: Set<PIIType>

    /// Whether response text is redacted (not only restored): what drops `logprobs` and refuses
    /// answers that cannot be parsed, in whole bodies and streams alike.
    var redactsResponses: Bool { settings.screenResponses && !redactTypes.isEmpty }

    /// Compiles the packs the policy names; nil when screening is off. Pack errors carry
    /// `file:line` and fail the load like any other policy error.
    static func build(_ settings: ScreeningSettings, policyPath: String) throws -> ScreeningRuntime? {
        guard settings.isEnabled else { return nil }
        // Pack problems are PolicyLoadErrors with file:line, failing the load like any policy error.
        let engine = try ScreeningEngine.load(
            injectionPackPaths: settings.injectionAction == .off ? [] : settings.injectionPacks,
            piiPackPath: settings.piiEntities.isEmpty ? nil : settings.piiPack,
            injectionThreshold: settings.injectionThreshold)
        var redact = Set<PIIType>()
        var block = Set<PIIType>()
        for (name, action) in settings.piiEntities {
            guard let type = PIIType(rawValue: name) else { continue }
            switch action {
            case .redact: redact.insert(type)
            case .block: block.insert(type)
            case .allow: break
            }
        }
        return ScreeningRuntime(engine: engine, settings: settings, redactTypes: redact, blockTypes: block)
    }
}
