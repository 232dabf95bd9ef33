/// Scores how demanding a chat request is (0...1) and picks the tier model for it, explaining the score.
///
/// Content features (questions, list instructions, code, math, reasoning words) come from the latest user
/// message, the one being answered. Length and depth cover the whole conversation except `system` and
/// `developer` messages: those are usually fixed per application and would push every request of an app the
/// same way. Each feature is normalized to 0...1 against a saturation point, multiplied by its weight, and
/// the contributions are summed and capped at 1.
///
/// Cost: one pass over the latest user message's UTF-8 bytes plus O(1) per other message (the UTF-8 length
/// of a native string is stored), no allocation besides the nine-entry explanation.
public struct ComplexityScorer: Sendable {
    public let config: ComplexityConfig

    /// Points at which a feature counts as fully present; documented in docs/routing.md.
    public enum Saturation {
        /// Approximate tokens (UTF-8 bytes / 4, which also suits CJK text at about one token per character).
        public static let tokens = 2_000.0
        public static let questions = 4.0
        public static let listItems = 6.0
        public static let codeSignals = 6.0
        public static let mathSignals = 4.0
        public static let reasoningHits = 3.0
        /// Conversation turns beyond the first.
        public static let extraMessages = 10.0
        public static let tools = 3.0
        public static let maxTokens = 8_192.0
    }

    public init(config: ComplexityConfig) {
        self.config = config
    }

    public func score(_ input: ComplexityInput) -> ComplexityResult {
        var conversationBytes = 0
        var conversationMessages = 0
        var latestUser: Int?
        var latestOther: Int?
        for (index, message) in input.messages.enumerated() where !Self.isInstruction(role: message.role) {
            conversationBytes += message.text.utf8.count
            conversationMessages += 1
            if message.role == "user" { latestUser = index } else { latestOther = index }
        }
        let signals = (latestUser ?? latestOther).map { TextSignals(scanning: input.messages[$0].text) } ?? TextSignals()

        let values: [(ComplexityFeatureName, Double)] = [
            (.length, Self.saturate(Double(conversationBytes) / 4, at: Saturation.tokens)),
            (.questions, Self.saturate(Double(signals.questions), at: Saturation.questions)),
            (.instructions, Self.saturate(Double(signals.listItems), at: Saturation.listItems)),
            (.code, signals.codeFences > 0 ? 1 : Self.saturate(Double(signals.codeSignals), at: Saturation.codeSignals)),
            (.math, Self.saturate(Double(signals.mathSignals), at: Saturation.mathSignals)),
            (.reasoning, Self.saturate(Double(signals.reasoningHits), at: Saturation.reasoningHits)),
            (.depth, Self.saturate(Double(max(0, conversationMessages - 1)), at: Saturation.extraMessages)),
            (.tools, Self.saturate(Double(input.toolCount), at: Saturation.tools)),
            (.maxTokens, Self.saturate(Double(input.maxTokens ?? 0), at: Saturation.maxTokens)),
        ]
        var features: [ComplexityFeature] = []
        features.reserveCapacity(values.count)
        var total = 0.0
        for (name, value) in values {
            let weight = config.weights[name]
            let contribution = weight.isFinite && weight > 0 ? value * weight : 0
            total += contribution
            features.append(ComplexityFeature(name: name.rawValue, value: value, contribution: contribution))
        }
        let score = min(1, max(0, total))
        let tier = config.tierIndex(for: score)
        let model = config.tiers.indices.contains(tier) ? config.tiers[tier].model : ""
        return ComplexityResult(score: score, model: model, tierIndex: tier, features: features)
    }

    /// Moves `result` to the nearest tier whose model `allowed` accepts (the chosen tier first, then
    /// outward, the more capable tier winning a tie); nil when no tier's model is allowed.
    ///
    /// A team may be given the router alias but only some of its tier models; routing must never
    /// serve a model the caller could not request by name, so the score only picks among those.
    public func restricted(_ result: ComplexityResult, to allowed: (String) -> Bool) -> ComplexityResult? {
        let tiers = config.tiers
        guard tiers.indices.contains(result.tierIndex) else { return nil }
        for distance in 0..<tiers.count {
            for index in [result.tierIndex + distance, result.tierIndex - distance] where tiers.indices.contains(index) {
                guard allowed(tiers[index].model) else { continue }
                var moved = result
                moved.tierIndex = index
                moved.model = tiers[index].model
                return moved
            }
        }
        return nil
    }

    private static func isInstruction(role: String) -> Bool { role == "system" || role == "developer" }

    private static func saturate(_ value: Double, at point: Double) -> Double {
        value <= 0 ? 0 : min(1, value / point)
    }
}
