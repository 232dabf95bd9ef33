/// A problem in a rule pack, reported as `file:line: message` like a compiler, so `tollgate policy
/// check` can point at the rule to fix.
public struct PackError: Error, Sendable, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// Every problem found in one load, so an operator fixes them in one pass instead of one per run.
public struct PackErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [PackError]

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
