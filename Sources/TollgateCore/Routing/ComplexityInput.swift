/// What the complexity scorer looks at: the chat messages as role and text, plus the request's tool count and
/// `max_tokens`. Deliberately small so the server can fill it from the parsed body without copying more.
public struct ComplexityInput: Sendable {
    public struct Message: Sendable, Equatable {
        public var role: String
        public var text: String

        public init(role: String, text: String) {
            self.role = role
            self.text = text
        }
    }

    public var messages: [Message]
    public var toolCount: Int
    public var maxTokens: Int?

    public init(messages: [Message], toolCount: Int = 0, maxTokens: Int? = nil) {
        self.messages = messages
        self.toolCount = toolCount
        self.maxTokens = maxTokens
    }

    /// Convenience for `(role, text)` pairs.
    public init(messages: [(role: String, text: String)], toolCount: Int = 0, maxTokens: Int? = nil) {
        self.init(messages: messages.map { Message(role: $0.role, text: $0.text) }, toolCount: toolCount, maxTokens: maxTokens)
    }
}

/// One feature's part in a score: its normalized strength (0...1) and what it added (`value * weight`).
public struct ComplexityFeature: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var contribution: Double

    public init(name: String, value: Double, contribution: Double) {
        self.name = name
        self.value = value
        self.contribution = contribution
    }
}

/// The scorer's verdict with everything needed to explain it.
public struct ComplexityResult: Sendable, Equatable {
    /// 0...1: the sum of the feature contributions, capped at 1.
    public var score: Double
    /// The model of the chosen tier.
    public var model: String
    /// Index of the chosen tier in `ComplexityConfig.tiers`.
    public var tierIndex: Int
    /// Every feature, in `ComplexityFeatureName.allCases` order, for the audit record and debugging.
    public var features: [ComplexityFeature]

    public init(score: Double, model: String, tierIndex: Int, features: [ComplexityFeature]) {
        self.score = score
        self.model = model
        self.tierIndex = tierIndex
        self.features = features
    }

    /// The `x-tollgate-route` header value, e.g. `auto;score=0.71;model=gpt-4o`.
    public func headerValue(router: String = "auto") -> String {
        "\(Self.token(router));score=\(Self.twoDecimals(score));model=\(Self.token(model))"
    }

    /// `0.71`; written by hand to keep Foundation's formatter out of the request path.
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = value.isFinite ? Int((min(max(value, 0), 1) * 100).rounded()) : 0
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Keeps a name from breaking the header's `;`/`=` structure or smuggling control characters.
    static func token(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            switch scalar {
            case ";", "=", ",", "\"": "_"
            default: scalar.value < 0x20 || scalar.value == 0x7f ? "_" : scalar
            }
        }))
    }
}
