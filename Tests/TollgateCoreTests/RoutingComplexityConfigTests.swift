import Testing
import TollgateCore

private let models: Set<String> = ["gpt-4o-mini", "gpt-4o", "o1"]

@Test func validTwoTierAndMultiTierRoutersPassValidation() {
    #expect(ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5).validate(knownModels: models) == [])
    let tiers = [ComplexityTier(maxScore: 0.3, model: "gpt-4o-mini"), ComplexityTier(maxScore: 0.7, model: "gpt-4o"), ComplexityTier(maxScore: 1, model: "o1")]
    #expect(ComplexityConfig(tiers: tiers).validate(knownModels: models) == [])
}

@Test func weightsSummingToZeroAreRefused() {
    var weights = ComplexityWeights()
    for name in ComplexityFeatureName.allCases { weights[name] = 0 }
    let problems = ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5, weights: weights).validate(knownModels: models)
    #expect(problems == ["weights: the weights sum to 0; at least one feature needs a positive weight"])
}

@Test func negativeOrNonFiniteWeightsAreRefusedByName() {
    var weights = ComplexityWeights()
    weights.code = -0.1
    weights.math = .nan
    let problems = ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5, weights: weights).validate(knownModels: models)
    #expect(problems.count == 2)
    #expect(problems.contains { $0.hasPrefix("weights.code: ") })
    #expect(problems.contains { $0.hasPrefix("weights.math: ") })
}

@Test func unknownModelInATierIsNamedWithItsPath() {
    let tiers = [ComplexityTier(maxScore: 0.4, model: "gpt-4o-mini"), ComplexityTier(maxScore: 1, model: "gpt-5")]
    #expect(ComplexityConfig(tiers: tiers).validate(knownModels: models) == ["tiers[1].model: unknown model `gpt-5`"])
    let twoTier = ComplexityConfig(simple: "tiny", complex: "gpt-4o", threshold: 0.5)
    #expect(twoTier.validate(knownModels: models) == ["simple: unknown model `tiny`"])
}

@Test func unsortedOrOutOfRangeTiersAreRefused() {
    let unsorted = [ComplexityTier(maxScore: 0.8, model: "gpt-4o"), ComplexityTier(maxScore: 0.3, model: "gpt-4o-mini")]
    let problems = ComplexityConfig(tiers: unsorted).validate(knownModels: models)
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("tiers[1].max_score: tiers must be sorted") == true)
    let outOfRange = [ComplexityTier(maxScore: 1.5, model: "gpt-4o")]
    #expect(ComplexityConfig(tiers: outOfRange).validate(knownModels: models) == ["tiers[0].max_score: must be between 0 and 1 (got 1.5)"])
    #expect(ComplexityConfig(tiers: []).validate(knownModels: models) == ["tiers: at least one tier is required"])
    let badThreshold = ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 1)
    #expect(badThreshold.validate(knownModels: models) == ["threshold: must be between 0 and 1, exclusive (got 1.0)"])
}

@Test func missingThresholdIsReportedWhenBuildingFromThePolicy() {
    let built = ComplexityConfig.fromPolicy(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: nil, tiers: nil)
    #expect(built.config == nil)
    #expect(built.problems.count == 1)
    #expect(built.problems.first?.hasPrefix("threshold: missing") == true)

    let empty = ComplexityConfig.fromPolicy(simple: nil, complex: nil, threshold: nil, tiers: nil)
    #expect(empty.problems == ["tiers: a router needs `tiers`, or `simple`, `complex` and `threshold`"])

    let both = ComplexityConfig.fromPolicy(simple: "gpt-4o-mini", complex: nil, threshold: nil, tiers: [ComplexityTier(maxScore: 1, model: "o1")])
    #expect(both.problems == ["tiers: use either `tiers` or `simple`/`complex`/`threshold`, not both"])

    let ok = ComplexityConfig.fromPolicy(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.6, tiers: nil)
    #expect(ok.problems == [])
    #expect(ok.config?.tiers == [ComplexityTier(maxScore: 0.6, model: "gpt-4o-mini"), ComplexityTier(maxScore: 1, model: "gpt-4o")])
}

@Test func weightOverridesApplyByPolicyNameAndRejectUnknownFeatures() {
    let (weights, problems) = ComplexityWeights.overriding(["max_tokens": 0.3, "reasoning": 0.9, "vibes": 1])
    #expect(weights.maxTokens == 0.3)
    #expect(weights.reasoning == 0.9)
    #expect(weights.code == ComplexityWeights.default.code)
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("weights.vibes: unknown feature") == true)
}
