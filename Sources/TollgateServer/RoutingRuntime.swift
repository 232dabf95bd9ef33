import TollgateCore

/// The compiled routing of one policy version: a complexity scorer per router alias and a
/// canary split per model with variants.
///
/// Canary splits carry their rollback state over from the previous version, so a reload
/// that does not touch a model neither reshuffles its clients nor forgets a rollback.
struct RoutingRuntime: Sendable {
    let scorers: [String: ComplexityScorer]
    let canaries: [String: CanarySplit]

    static func build(_ snapshot: PolicySnapshot, previous: RoutingRuntime?) -> RoutingRuntime {
        var scorers: [String: ComplexityScorer] = [:]
        for router in snapshot.routers.values {
            let weights = ComplexityWeights.overriding(router.weights).weights
            let tiers = router.tiers.map { ComplexityTier(maxScore: $0.maxScore, model: $0.model) }
            scorers[router.name] = ComplexityScorer(config: ComplexityConfig(weights: weights, tiers: tiers))
        }
        var canaries: [String: CanarySplit] = [:]
        for model in snapshot.models.values where model.variants.count > 1 {
            let config = CanaryConfig(
                weights: model.variants.map(\.weight), sticky: StickyMode(rawValue: model.sticky.rawValue) ?? .key)
            let rollbacks = model.variants.map { variant in
                variant.rollback.map {
                    RollbackConfig(maxErrorRate: $0.maxErrorRate, minRequests: $0.minRequests, windowSeconds: Double($0.windowSeconds))
                }
            }
            canaries[model.name] = CanarySplit(model: model.name, config: config, rollbacks: rollbacks, previous: previous?.canaries[model.name])
        }
        return RoutingRuntime(scorers: scorers, canaries: canaries)
    }
}
