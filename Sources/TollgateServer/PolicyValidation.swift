import TollgateCore

/// Offline validation for `tollgate policy check`: the same loading path the server uses.
public enum PolicyValidation {
    /// Every problem with the policy at `path` and the packs it names, as `file:line: message`.
    public static func problems(atPath path: String) -> [String] { check(atPath: path).problems }

    /// Problems (the policy is refused) and warnings (it loads, but probably not as meant).
    public static func check(atPath path: String) -> (problems: [String], warnings: [String]) {
        do {
            let loaded = try PolicyFileLoader.load(path: path, generation: 0)
            return ([], PolicyWarnings.all(loaded.snapshot).map { "\(path): warning: \($0)" })
        } catch let error as PolicyLoadError {
            return (error.issues.map(\.description), [])
        } catch {
            return (["\(path):1: \(error)"], [])
        }
    }
}
