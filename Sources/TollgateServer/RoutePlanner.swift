import TollgateCore

/// Turns the requested model name into a `RoutePlan`: router aliases are resolved by
/// complexity, canary models by variant weights, then targets are looked up.
struct RoutePlanner: Sendable {
    func plan(model: String, chat: ChatCompletionRequest?, principal: Principal, policy: PolicySnapshot) throws(GatewayError) -> RoutePlan {
        var served = model
        var routeHeader: String? = nil
        if let router = policy.routers[model] {
            guard let tier = router.tiers.first else { throw .serviceUnavailable("Router `\(model)` has no tiers.") }
            served = tier.model
            routeHeader = "\(model);model=\(served)"
        }
        guard let settings = policy.models[served] else { throw .modelNotFound(model) }
        guard let variant = settings.variants.first(where: { $0.weight > 0 }) ?? settings.variants.first else {
            throw .serviceUnavailable("Model `\(served)` has no targets.")
        }
        let index = settings.variants.firstIndex(where: { $0.name == variant.name }) ?? 0
        return RoutePlan(
            requestedModel: model, servedModel: served, variant: variant, variantIndex: index,
            targets: resolve(variant.targets, policy: policy), routeHeader: routeHeader)
    }

    func resolve(_ targets: [TargetSettings], policy: PolicySnapshot) -> [ResolvedTarget] {
        targets.compactMap { t in policy.providers[t.provider].map { ResolvedTarget(target: t, provider: $0) } }
    }
}
