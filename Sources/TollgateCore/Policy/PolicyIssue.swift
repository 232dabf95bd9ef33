/// One problem found while loading a policy, located so an editor can jump to it.
public struct PolicyIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, the format compilers use, so terminals and editors link it.
    public var description: String { "\(file):\(line): \(message)" }
}

/// Thrown when a policy has one or more problems; a policy is all-or-nothing.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public var issues: [PolicyIssue]

    public init(issues: [PolicyIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
