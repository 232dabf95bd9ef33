import Yams

/// Turns policy YAML text into a `PolicySnapshot`, collecting every problem with its line.
///
/// Reading the file is the caller's job so this stays pure and testable from strings.
public enum PolicyLoader {
    /// Parses and validates `text`, which was read from `path` (used for messages and for
    /// resolving relative paths inside the policy).
    public static func load(text: String, path: String) throws(PolicyLoadError) -> PolicySnapshot {
        let reader = YAMLReader(file: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PolicyLoadError(issues: [PolicyIssue(file: path, line: 1, message: "policy file is empty")])
            }
            root = node
        } catch let error as PolicyLoadError {
            throw error
        } catch let error as YamlError {
            throw PolicyLoadError(issues: [yamlIssue(error, file: path)])
        } catch {
            throw PolicyLoadError(issues: [PolicyIssue(file: path, line: 1, message: "cannot parse YAML: \(error)")])
        }
        let builder = PolicyBuilder(reader: reader, baseDirectory: PolicyPath.directory(of: path))
        let snapshot = builder.build(root: root, sourcePath: path)
        if !reader.issues.isEmpty {
            throw PolicyLoadError(issues: reader.issues.sorted { $0.line < $1.line })
        }
        return snapshot
    }

    private static func yamlIssue(_ error: YamlError, file: String) -> PolicyIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return PolicyIssue(file: file, line: mark.line, message: "invalid YAML: \(problem)")
        case .composer(_, let problem, let mark, _):
            return PolicyIssue(file: file, line: mark.line, message: "invalid YAML: \(problem)")
        default:
            return PolicyIssue(file: file, line: 1, message: "invalid YAML: \(error)")
        }
    }
}

/// Path arithmetic for policy-relative paths, kept free of Foundation file APIs.
public enum PolicyPath {
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    public static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        return base == "." ? path : "\(base)/\(path)"
    }
}
