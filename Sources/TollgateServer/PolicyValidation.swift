import TollgateCore

/// Offline validation for `tollgate policy check`: the same loading path the server uses.
public enum PolicyValidation {
    /// Every problem with the policy at `path` and the packs it names, as `file:line: message`.
    public static func problems(atPath path: String) -> [String] {
        do {
            _ = try PolicyFileLoader.load(path: path, generation: 0)
            return []
        } catch let error as PolicyLoadError {
            return error.issues.map(\.description)
        } catch {
            return ["\(path):1: \(error)"]
        }
    }
}
