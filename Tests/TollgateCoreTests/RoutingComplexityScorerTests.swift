import Testing
import TollgateCore

private let twoTier = ComplexityScorer(config: ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5))

private func user(_ text: String, toolCount: Int = 0, maxTokens: Int? = nil) -> ComplexityInput {
    ComplexityInput(messages: [(role: "user", text: text)], toolCount: toolCount, maxTokens: maxTokens)
}

private func feature(_ result: ComplexityResult, _ name: ComplexityFeatureName) -> ComplexityFeature? {
    result.features.first { $0.name == name.rawValue }
}

/// Only the named feature weighs anything, so a test controls the score exactly.
private func onlyWeight(_ name: ComplexityFeatureName, _ weight: Double) -> ComplexityWeights {
    var weights = ComplexityWeights()
    for other in ComplexityFeatureName.allCases { weights[other] = 0 }
    weights[name] = weight
    return weights
}

@Test func shortFactualQuestionScoresLowAndRoutesToTheSimpleModel() {
    let result = twoTier.score(user("What is the capital of France?"))
    #expect(result.score < 0.1)
    #expect(result.model == "gpt-4o-mini")
    #expect(result.tierIndex == 0)
    #expect(feature(result, .questions)?.value == 0.25)
    #expect(feature(result, .reasoning)?.value == 0)
    #expect(feature(result, .code)?.value == 0)
    #expect(feature(result, .math)?.value == 0)
}

@Test func longAnalyticalBriefRoutesToTheComplexModel() {
    let brief = """
        We are migrating our billing service from a monolith to event sourcing. Analyze the trade-offs and
        explain why each risk matters, step by step:
        1. Compare consistency guarantees of the two designs.
        2. Evaluate the operational cost of replaying events.
        3. Assess how schema evolution will be handled.
        4. Propose a rollout strategy with a rollback plan.
        What would you do differently for a team of five? Which parts can we defer?
        """
    let result = twoTier.score(user(String(repeating: brief + "\n", count: 6)))
    #expect(result.score > 0.5)
    #expect(result.model == "gpt-4o")
    #expect(feature(result, .reasoning)?.value == 1)
    #expect((feature(result, .instructions)?.value ?? 0) > 0.5)
    #expect((feature(result, .length)?.value ?? 0) > 0.1)
}

@Test func fencedCodeSaturatesCodeAndItsContentIsNotReadAsReasoningOrMath() {
    let prompt = """
        Why does this crash?
        ```python
        # analyze, design, prove, derive: comments inside code are not reasoning
        def mean(xs): return sum(xs) / len(xs) + 2 * 3
        ```
        """
    let result = twoTier.score(user(prompt))
    #expect(feature(result, .code)?.value == 1)
    #expect(feature(result, .reasoning)?.value == 0)
    #expect(feature(result, .math)?.value == 0)
    #expect(feature(result, .questions)?.value == 0.25)
}

@Test func codeLikeTextWithoutFencesStillCountsAsCode() {
    let prompt = """
        fix this please
        int main(void) {
            if (a == b && c != d) { return 0; }
        }
        """
    let code = feature(twoTier.score(user(prompt)), .code)?.value ?? 0
    #expect(code > 0.5)
    let prose = feature(twoTier.score(user("Tell me a joke about a cat and a dog.")), .code)?.value
    #expect(prose == 0)
}

@Test func mathSymbolsLatexAndArithmeticCountAsMath() {
    let latex = twoTier.score(user(#"Evaluate $\int_0^1 x^2 \, dx$ and simplify \frac{a}{b}."#))
    #expect(feature(latex, .math)?.value == 1)
    let unicode = twoTier.score(user("Is ∑ 1/n² finite? Show that √2 ≠ p/q."))
    #expect((feature(unicode, .math)?.value ?? 0) >= 0.75)
    let arithmetic = twoTier.score(user("if 3x + 2 = 11 then what is x"))
    #expect((feature(arithmetic, .math)?.value ?? 0) >= 0.5)
    let prose = twoTier.score(user("The 2024-08-06 release of gpt-4o is good; trade-offs are fine."))
    #expect(feature(prose, .math)?.value == 0)
}

@Test func mathHeavyProofRequestRoutesComplex() {
    let prompt = #"Prove that the integral \int_0^\infty e^{-x^2} dx = \sqrt{\pi}/2 and derive the variance step by step."#
    let result = twoTier.score(user(prompt))
    #expect(result.model == "gpt-4o")
    #expect(feature(result, .math)?.value == 1)
    #expect(feature(result, .reasoning)?.value == 1)
}

@Test func reasoningPhrasesAreRecognisedAcrossHyphensAndCase() {
    let hits = twoTier.score(user("Explain WHY. Walk through it Step-by-Step, with Pros and Cons."))
    #expect(feature(hits, .reasoning)?.value == 1)  // explain why, step by step, pros and cons
    let none = twoTier.score(user("Please explain the menu and step outside."))
    #expect(feature(none, .reasoning)?.value == 0)
}

@Test func repeatedQuestionMarksCountAsOneQuestion() {
    let result = twoTier.score(user("Really??? Are you sure?!"))
    #expect(feature(result, .questions)?.value == 0.5)
}

@Test func numberedAndBulletedLinesCountAsInstructions() {
    let prompt = "Do the following:\n1. one\n2) two\n  - three\n* four\n• five\n-not a bullet\n12.5 is a number"
    let result = twoTier.score(user(prompt))
    #expect(feature(result, .instructions)?.value == 5.0 / 6.0)
}

@Test func lengthSaturatesAtTheConfiguredTokenCount() {
    let short = twoTier.score(user(String(repeating: "a", count: 400)))
    #expect(feature(short, .length)?.value == 0.05)  // 100 approximate tokens of 2,000
    let huge = twoTier.score(user(String(repeating: "word ", count: 10_000)))
    #expect(feature(huge, .length)?.value == 1)
    #expect((feature(huge, .length)?.contribution ?? 0) == ComplexityWeights.default.length)
}

@Test func systemPromptsAreIgnoredSoOneAppIsNotRoutedAllTheSameWay() {
    let system = "```swift\nlet x = 1\n```\nAnalyze, compare, prove, derive. " + String(repeating: "rules ", count: 5_000)
    let input = ComplexityInput(messages: [(role: "system", text: system), (role: "user", text: "Hi there")])
    let result = twoTier.score(input)
    #expect(feature(result, .code)?.value == 0)
    #expect(feature(result, .reasoning)?.value == 0)
    #expect((feature(result, .length)?.value ?? 1) < 0.01)
    #expect(result.model == "gpt-4o-mini")
}

@Test func contentFeaturesComeFromTheLatestUserMessage() {
    let input = ComplexityInput(messages: [
        (role: "user", text: "Analyze and compare these designs, then prove it."),
        (role: "assistant", text: "Sure."),
        (role: "user", text: "thanks"),
    ])
    let result = twoTier.score(input)
    #expect(feature(result, .reasoning)?.value == 0)
    #expect(feature(result, .depth)?.value == 0.2)  // three turns: two beyond the first, of ten
}

@Test func conversationDepthToolsAndMaxTokensSaturate() {
    let turns = (0..<11).map { (role: $0 % 2 == 0 ? "user" : "assistant", text: "ok") }
    let deep = twoTier.score(ComplexityInput(messages: turns, toolCount: 5, maxTokens: 100_000))
    #expect(feature(deep, .depth)?.value == 1)
    #expect(feature(deep, .tools)?.value == 1)
    #expect(feature(deep, .maxTokens)?.value == 1)
    let flat = twoTier.score(user("ok", toolCount: 0, maxTokens: nil))
    #expect(feature(flat, .tools)?.value == 0)
    #expect(feature(flat, .maxTokens)?.value == 0)
    #expect(feature(flat, .depth)?.value == 0)
}

@Test func explanationListsEveryFeatureAndContributionsAddUpToTheScore() {
    let result = twoTier.score(user("Compare 2 + 2 with 3 * 1? - item", toolCount: 1, maxTokens: 1_000))
    #expect(result.features.map(\.name) == ComplexityFeatureName.allCases.map(\.rawValue))
    let sum = result.features.reduce(0) { $0 + $1.contribution }
    #expect(abs(sum - result.score) < 1e-12)
    for item in result.features {
        #expect((0...1).contains(item.value))
    }
}

@Test func scoreIsCappedAtOne() {
    let turns = (0..<20).map { _ in (role: "user", text: "```\ncode\n```\n Prove, derive and analyze ∑ ∫ √ ???\n1. a\n2. b\n3. c\n4. d\n5. e\n6. f\n" + String(repeating: "x", count: 9_000)) }
    let result = twoTier.score(ComplexityInput(messages: turns, toolCount: 9, maxTokens: 9_999))
    #expect(result.score == 1)
    #expect(result.model == "gpt-4o")
}

@Test(arguments: [
    (2_048, "a"),  // 0.25 is at the first bound: inclusive
    (2_049, "b"),
    (4_096, "b"),
    (4_097, "c"),
    (6_144, "c"),
    (8_192, "c"),  // above every bound: the last tier takes it
])
func tierBoundariesAreInclusiveAndTheLastTierCatchesTheRest(maxTokens: Int, model: String) {
    let config = ComplexityConfig(
        weights: onlyWeight(.maxTokens, 1),
        tiers: [ComplexityTier(maxScore: 0.25, model: "a"), ComplexityTier(maxScore: 0.5, model: "b"), ComplexityTier(maxScore: 0.75, model: "c")])
    let result = ComplexityScorer(config: config).score(user("hello", maxTokens: maxTokens))
    #expect(result.model == model)
}

@Test func twoTierThresholdSendsAnExactHitToTheSimpleModel() {
    let atThreshold = ComplexityScorer(
        config: ComplexityConfig(simple: "small", complex: "large", threshold: 0.5, weights: onlyWeight(.tools, 0.5)))
    let result = atThreshold.score(user("hi", toolCount: 3))
    #expect(result.score == 0.5)
    #expect(result.model == "small")
    let justBelow = ComplexityScorer(
        config: ComplexityConfig(simple: "small", complex: "large", threshold: 0.49, weights: onlyWeight(.tools, 0.5)))
    #expect(justBelow.score(user("hi", toolCount: 3)).model == "large")
}

@Test func oddInputNeverCrashesAndScoresNearZero() {
    let inputs = [
        ComplexityInput(messages: [ComplexityInput.Message]()),
        ComplexityInput(messages: [(role: "assistant", text: "")]),
        user("🙂🙂🙂 ```"),
        user("\\"),
        user("$"),
        user("1."),
        user("日本語のテキストです。"),
        user(String(repeating: "\u{0}", count: 10)),
        user("hi", toolCount: -4, maxTokens: -1),
    ]
    for input in inputs {
        let result = twoTier.score(input)
        #expect((0...1).contains(result.score))
        #expect(result.model == "gpt-4o-mini")
    }
}

@Test func routeHeaderNamesRouterScoreAndModel() {
    let result = ComplexityResult(score: 0.714, model: "gpt-4o", tierIndex: 1, features: [])
    #expect(result.headerValue() == "auto;score=0.71;model=gpt-4o")
    #expect(ComplexityResult(score: 0.05, model: "m", tierIndex: 0, features: []).headerValue(router: "cheap") == "cheap;score=0.05;model=m")
    #expect(ComplexityResult(score: 1, model: "m", tierIndex: 0, features: []).headerValue() == "auto;score=1.00;model=m")
    #expect(ComplexityResult(score: 0.999, model: "a;b=c", tierIndex: 0, features: []).headerValue() == "auto;score=1.00;model=a_b_c")
}
