/// The names of the scorer's features, as written in the policy's `weights` and in explanations.
public enum ComplexityFeatureName: String, Sendable, CaseIterable {
    case length
    case questions
    case instructions
    case code
    case math
    case reasoning
    case depth
    case tools
    case maxTokens = "max_tokens"
}

/// How much each feature can add to a score: a feature at full strength adds its weight; the score is the
/// sum, capped at 1. Weights need not sum to 1: a single strong signal (say, reasoning at 0.5) can decide on
/// its own, and several moderate ones add up.
public struct ComplexityWeights: Sendable, Equatable {
    public var length = 0.20
    public var questions = 0.10
    public var instructions = 0.15
    public var code = 0.35
    public var math = 0.35
    public var reasoning = 0.50
    public var depth = 0.10
    public var tools = 0.15
    public var maxTokens = 0.10

    public init() {}

    /// The defaults; tuned so that with a threshold of 0.5 chit-chat and lookups stay simple, while a request
    /// that asks for analysis plus code or math, or has a long multi-part brief, goes to the complex model.
    public static let `default` = ComplexityWeights()

    public subscript(name: ComplexityFeatureName) -> Double {
        get {
            switch name {
            case .length: length
            case .questions: questions
            case .instructions: instructions
            case .code: code
            case .math: math
            case .reasoning: reasoning
            case .depth: depth
            case .tools: tools
            case .maxTokens: maxTokens
            }
        }
        set {
            switch name {
            case .length: length = newValue
            case .questions: questions = newValue
            case .instructions: instructions = newValue
            case .code: code = newValue
            case .math: math = newValue
            case .reasoning: reasoning = newValue
            case .depth: depth = newValue
            case .tools: tools = newValue
            case .maxTokens: maxTokens = newValue
            }
        }
    }

    /// The defaults with the policy's `weights` map applied; unknown names come back as problems.
    public static func overriding(_ values: [String: Double]) -> (weights: ComplexityWeights, problems: [String]) {
        var weights = ComplexityWeights()
        var problems: [String] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let name = ComplexityFeatureName(rawValue: key) {
                weights[name] = value
            } else {
                let known = ComplexityFeatureName.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append("weights.\(key): unknown feature; known features are \(known)")
            }
        }
        return (weights, problems)
    }
}

/// One tier of a complexity router: scores up to and including `maxScore` go to `model`.
public struct ComplexityTier: Sendable, Equatable {
    public var maxScore: Double
    public var model: String

    public init(maxScore: Double, model: String) {
        self.maxScore = maxScore
        self.model = model
    }
}

/// A complexity router (`routing.auto` or any alias declared as a router): feature weights and tiers.
///
/// Tiers are sorted by `maxScore`, ascending; a score picks the first tier whose `maxScore` it does not exceed,
/// and the last tier takes every score above all of them, so the last `max_score` need not be 1.
public struct ComplexityConfig: Sendable, Equatable {
    public var weights: ComplexityWeights
    public var tiers: [ComplexityTier]
    /// Built from `{simple, complex, threshold}`: problems are then reported under those names.
    private var isTwoTier = false

    public init(weights: ComplexityWeights = .default, tiers: [ComplexityTier]) {
        self.weights = weights
        self.tiers = tiers
    }

    /// The two-tier form `{simple, complex, threshold}`: a score at or below `threshold` is simple.
    public init(simple: String, complex: String, threshold: Double, weights: ComplexityWeights = .default) {
        self.init(weights: weights, tiers: [ComplexityTier(maxScore: threshold, model: simple), ComplexityTier(maxScore: 1, model: complex)])
        isTwoTier = true
    }

    /// Builds a config from the policy block's optional fields, reporting what is missing or contradictory
    /// (the lead decodes YAML into these optionals). Call `validate(knownModels:)` on the result as well.
    public static func fromPolicy(
        simple: String?, complex: String?, threshold: Double?, tiers: [ComplexityTier]?,
        weights: ComplexityWeights = .default
    ) -> (config: ComplexityConfig?, problems: [String]) {
        let twoTierFields = [simple != nil, complex != nil, threshold != nil]
        if let tiers {
            if twoTierFields.contains(true) {
                return (nil, ["tiers: use either `tiers` or `simple`/`complex`/`threshold`, not both"])
            }
            return (ComplexityConfig(weights: weights, tiers: tiers), [])
        }
        guard let simple, let complex, let threshold else {
            var problems: [String] = []
            if !twoTierFields.contains(true) {
                problems.append("tiers: a router needs `tiers`, or `simple`, `complex` and `threshold`")
            } else {
                if simple == nil { problems.append("simple: missing; the model for scores at or below `threshold`") }
                if complex == nil { problems.append("complex: missing; the model for scores above `threshold`") }
                if threshold == nil { problems.append("threshold: missing; a score between 0 and 1 that separates `simple` from `complex`") }
            }
            return (nil, problems)
        }
        return (ComplexityConfig(simple: simple, complex: complex, threshold: threshold, weights: weights), [])
    }

    /// Human messages, one per problem, each starting with the policy field path; empty when valid.
    public func validate(knownModels: Set<String>) -> [String] {
        var problems: [String] = []
        var total = 0.0
        for name in ComplexityFeatureName.allCases {
            let weight = weights[name]
            if !(weight.isFinite && weight >= 0 && weight <= 1) {
                problems.append("weights.\(name.rawValue): must be a number between 0 and 1 (got \(weight))")
            } else {
                total += weight
            }
        }
        if problems.isEmpty && total <= 0 {
            problems.append("weights: the weights sum to 0; at least one feature needs a positive weight")
        }
        if tiers.isEmpty {
            problems.append("tiers: at least one tier is required")
        }
        for (index, tier) in tiers.enumerated() {
            let modelField = isTwoTier ? (index == 0 ? "simple" : "complex") : "tiers[\(index)].model"
            if isTwoTier, index == 0, !(tier.maxScore.isFinite && tier.maxScore > 0 && tier.maxScore < 1) {
                problems.append("threshold: must be between 0 and 1, exclusive (got \(tier.maxScore))")
            } else if isTwoTier {
                // The complex tier's bound is implied.
            } else if !(tier.maxScore.isFinite && tier.maxScore >= 0 && tier.maxScore <= 1) {
                problems.append("tiers[\(index)].max_score: must be between 0 and 1 (got \(tier.maxScore))")
            } else if index > 0, tiers[index - 1].maxScore.isFinite, tier.maxScore <= tiers[index - 1].maxScore {
                problems.append(
                    "tiers[\(index)].max_score: tiers must be sorted by max_score, strictly ascending (\(tier.maxScore) follows \(tiers[index - 1].maxScore))")
            }
            if tier.model.isEmpty {
                problems.append("\(modelField): must not be empty")
            } else if !knownModels.contains(tier.model) {
                problems.append("\(modelField): unknown model `\(tier.model)`")
            }
        }
        return problems
    }

    /// The tier a score falls in.
    func tierIndex(for score: Double) -> Int {
        for (index, tier) in tiers.enumerated() where score <= tier.maxScore { return index }
        return max(0, tiers.count - 1)
    }
}
