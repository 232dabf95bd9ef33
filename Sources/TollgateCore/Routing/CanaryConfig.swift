/// Which identity keeps a client on one canary variant.
public enum StickyMode: String, Sendable, Equatable, CaseIterable {
    /// The API key id: every request of a key goes to the same variant.
    case key
    /// The request's `user` field (end users behind one key stay put individually).
    case user
    /// No stickiness: each request is drawn at random by weight.
    case none
}

/// The canary part of a model: the integer weights of its `variants` (in policy order) and `sticky`.
public struct CanaryConfig: Sendable, Equatable {
    public var weights: [Int]
    public var sticky: StickyMode

    public init(weights: [Int], sticky: StickyMode = .key) {
        self.weights = weights
        self.sticky = sticky
    }

    /// Largest total weight accepted; keeps the ring arithmetic far from overflow.
    public static let maxTotalWeight = 1_000_000

    /// Human messages, one per problem, each starting with the policy field path; empty when valid.
    public func validate() -> [String] {
        var problems: [String] = []
        if weights.isEmpty { problems.append("variants: at least one variant is required") }
        var total = 0
        for (index, weight) in weights.enumerated() {
            if weight < 0 {
                problems.append("variants[\(index)].weight: must not be negative (got \(weight))")
            } else if weight > Self.maxTotalWeight {
                problems.append("variants[\(index)].weight: must be at most \(Self.maxTotalWeight) (got \(weight))")
            } else {
                total += weight
            }
        }
        if !weights.isEmpty && problems.isEmpty {
            if total == 0 {
                problems.append("variants: the weights sum to 0; at least one variant needs a positive weight")
            } else if total > Self.maxTotalWeight {
                problems.append("variants: the weights sum to \(total); at most \(Self.maxTotalWeight) is allowed")
            }
        }
        return problems
    }
}
