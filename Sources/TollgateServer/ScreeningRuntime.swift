import TollgateCore

/// Compiled screening for one policy version. Filled in when the screening engine lands.
struct ScreeningRuntime: Sendable {
    static func build(_ settings: ScreeningSettings, policyPath: String) throws -> ScreeningRuntime? {
        nil
    }
}
