import Foundation
import TollgateCore

/// Provider secrets read from the environment variables the policy names.
///
/// Read once per policy load (not per request), held only in memory and never logged; the
/// policy file carries variable names, never keys.
struct ProviderKeys: Sendable {
    private let keys: [String: String]

    init(snapshot: PolicySnapshot, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var keys: [String: String] = [:]
        for provider in snapshot.providers.values {
            if let variable = provider.apiKeyEnv, let value = environment[variable], !value.isEmpty {
                keys[provider.name] = value
            }
        }
        self.keys = keys
    }

    func key(for provider: String) -> String? { keys[provider] }

    /// Names of providers whose key variable is declared but unset, for startup warnings.
    static func missing(in snapshot: PolicySnapshot, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        snapshot.providers.values.compactMap { p in
            guard let variable = p.apiKeyEnv else { return nil }
            return (environment[variable] ?? "").isEmpty ? p.name : nil
        }.sorted()
    }
}
