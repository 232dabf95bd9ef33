import Yams

/// Walks a composed YAML tree and records every problem with its line instead of stopping at
/// the first one, so `tollgate policy check` can list them all in one run.
final class YAMLReader {
    let file: String
    private(set) var issues: [PolicyIssue] = []

    init(file: String) { self.file = file }

    func issue(_ node: Node?, _ message: String) {
        issues.append(PolicyIssue(file: file, line: node?.mark?.line ?? 1, message: message))
    }

    /// The mapping's entries keyed by string, after checking that only `allowed` keys appear.
    func mapping(_ node: Node?, at path: String, allowed: Set<String>) -> [String: Node] {
        guard let node else { return [:] }
        guard case .mapping(let mapping) = node else {
            issue(node, "\(path) must be a mapping")
            return [:]
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                issue(keyNode, "\(path) has a non-string key")
                continue
            }
            if !allowed.isEmpty && !allowed.contains(key) {
                issue(keyNode, "unknown field `\(path).\(key)` (allowed: \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            result[key] = value
        }
        return result
    }

    /// Mapping entries in file order, for maps whose keys are user-chosen names (providers, models, teams).
    func namedEntries(_ node: Node?, at path: String) -> [(String, Node, Node)] {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            issue(node, "\(path) must be a mapping of names")
            return []
        }
        var result: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, !key.isEmpty else {
                issue(keyNode, "\(path) has an empty or non-string name")
                continue
            }
            result.append((key, keyNode, value))
        }
        return result
    }

    func sequence(_ node: Node?, at path: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let seq) = node else {
            issue(node, "\(path) must be a list")
            return []
        }
        return Array(seq)
    }

    func string(_ node: Node?, at path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            issue(node, "\(path) must be a string")
            return nil
        }
        return scalar.string
    }

    func int(_ node: Node?, at path: String, min: Int = 0, max: Int = .max) -> Int? {
        guard let node else { return nil }
        guard let value = node.int else {
            issue(node, "\(path) must be an integer")
            return nil
        }
        if value < min {
            issue(node, "\(path) must be at least \(min)")
            return nil
        }
        if value > max {
            issue(node, "\(path) must be at most \(max)")
            return nil
        }
        return value
    }

    func double(_ node: Node?, at path: String, min: Double = 0, max: Double = .greatestFiniteMagnitude) -> Double? {
        guard let node else { return nil }
        guard let value = node.float ?? node.int.map(Double.init) else {
            issue(node, "\(path) must be a number")
            return nil
        }
        if value < min || !value.isFinite {
            issue(node, "\(path) must be a finite number of at least \(min)")
            return nil
        }
        if value > max {
            issue(node, "\(path) must be at most \(max)")
            return nil
        }
        return value
    }

    func bool(_ node: Node?, at path: String) -> Bool? {
        guard let node else { return nil }
        guard let value = node.bool else {
            issue(node, "\(path) must be true or false")
            return nil
        }
        return value
    }

    func oneOf(_ node: Node?, at path: String, _ choices: [String]) -> String? {
        guard let value = string(node, at: path) else { return nil }
        guard choices.contains(value) else {
            issue(node, "\(path) must be one of \(choices.joined(separator: " | ")), not `\(value)`")
            return nil
        }
        return value
    }

    func stringList(_ node: Node?, at path: String) -> [String]? {
        guard let node else { return nil }
        return sequence(node, at: path).compactMap { string($0, at: "\(path)[]") }
    }
}
