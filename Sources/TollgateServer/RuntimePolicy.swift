import Foundation
import TollgateCore
import TollgateStore

/// Everything derived from one version of the policy files, built and validated together and
/// swapped as one value, so a request never mixes two versions.
struct RuntimePolicy: Sendable {
    let snapshot: PolicySnapshot
    /// SHA-256 over the policy file and every pack it loads; a change to any reloads all.
    let fileHash: String
    let loadedAt: Date
    /// Increments with each successful load in this process.
    let generation: Int
    let screening: ScreeningRuntime?
    let providerKeys: ProviderKeys
    let routing: RoutingRuntime
}

/// Reads policy files from disk and compiles them into a `RuntimePolicy`.
enum PolicyFileLoader {
    static func load(path: String, generation: Int, previous: RuntimePolicy? = nil) throws -> RuntimePolicy {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PolicyLoadError(issues: [PolicyIssue(file: path, line: 1, message: "cannot read policy file: \(error.localizedDescription)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyLoadError(issues: [PolicyIssue(file: path, line: 1, message: "policy file is not valid UTF-8")])
        }
        let snapshot = try PolicyLoader.load(text: text, path: path)
        let unreadable = snapshot.providers.values.sorted { $0.name < $1.name }.compactMap { provider -> PolicyIssue? in
            guard let caFile = provider.caFile, !FileManager.default.isReadableFile(atPath: caFile) else { return nil }
            return PolicyIssue(file: path, line: 1, message: "providers.\(provider.name).ca_file: cannot read \(caFile)")
        }
        if !unreadable.isEmpty { throw PolicyLoadError(issues: unreadable) }
        var hashed = Array(data)
        for pack in snapshot.screening.injectionPacks + [snapshot.screening.piiPack].compactMap({ $0 }) {
            if let packData = FileManager.default.contents(atPath: pack) { hashed.append(contentsOf: packData) }
        }
        let screening = try ScreeningRuntime.build(snapshot.screening, policyPath: path)
        return RuntimePolicy(
            snapshot: snapshot, fileHash: KeyCrypto.sha256Hex(hashed), loadedAt: Date(),
            generation: generation, screening: screening, providerKeys: ProviderKeys(snapshot: snapshot),
            routing: RoutingRuntime.build(snapshot, previous: previous?.routing))
    }

    /// The combined hash of the files a policy depends on, without compiling anything; the
    /// reloader uses it to notice edits cheaply.
    static func currentHash(path: String, previous: PolicySnapshot?) -> String? {
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else { return nil }
        if let previous {
            for pack in previous.screening.injectionPacks + [previous.screening.piiPack].compactMap({ $0 }) {
                if let packData = FileManager.default.contents(atPath: pack) { bytes.append(contentsOf: packData) }
            }
        }
        return KeyCrypto.sha256Hex(bytes)
    }
}
