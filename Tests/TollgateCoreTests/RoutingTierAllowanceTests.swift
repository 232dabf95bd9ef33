import Testing
import TollgateCore

/// A router may only pick a tier model the caller is allowed to request by name.
struct RoutingTierAllowanceTests {
    let threeTier = ComplexityScorer(config: ComplexityConfig(tiers: [
        ComplexityTier(maxScore: 0.3, model: "small"), ComplexityTier(maxScore: 0.7, model: "mid"),
        ComplexityTier(maxScore: 1, model: "large"),
    ]))

    func scored(tier: Int) -> ComplexityResult {
        ComplexityResult(score: [0.1, 0.5, 0.9][tier], model: ["small", "mid", "large"][tier], tierIndex: tier, features: [])
    }

    @Test func disallowedComplexTierFallsBackToTheAllowedSimpleTier() throws {
        let scorer = ComplexityScorer(config: ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5))
        let hard = ComplexityResult(score: 0.9, model: "gpt-4o", tierIndex: 1, features: [])
        let moved = try #require(scorer.restricted(hard, to: { $0 == "gpt-4o-mini" }))
        #expect(moved.model == "gpt-4o-mini" && moved.tierIndex == 0 && moved.score == 0.9)
        #expect(moved.headerValue() == "auto;score=0.90;model=gpt-4o-mini")
    }

    @Test func allowedChosenTierIsKept() {
        #expect(threeTier.restricted(scored(tier: 1), to: { _ in true }) == scored(tier: 1))
    }

    @Test func nearestAllowedTierWinsPreferringTheMoreCapableOnATie() {
        #expect(threeTier.restricted(scored(tier: 1), to: { $0 != "mid" })?.model == "large")
        #expect(threeTier.restricted(scored(tier: 0), to: { $0 == "large" })?.model == "large")
        #expect(threeTier.restricted(scored(tier: 2), to: { $0 == "small" })?.model == "small")
    }

    @Test func noAllowedTierGivesNoResult() {
        #expect(threeTier.restricted(scored(tier: 2), to: { _ in false }) == nil)
    }
}
