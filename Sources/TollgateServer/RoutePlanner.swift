import TollgateCore

/// Turns the requested model name into a `RoutePlan`: router aliases are resolved by
/// complexity, canary models by variant weights, then targets are looked up.
struct RoutePlanner: Sendable {
    func plan(model: String, chat: ChatCompletionRequest?, principal: Principal, runtime: RuntimePolicy) throws(GatewayError) -> RoutePlan {
        let policy = runtime.snapshot
        var served = model
        var routeHeader: String? = nil
        if let target = policy.aliases[model] {
            // An alias is held to the same lists as a router: naming it is no way around them.
            guard Self.may(principal, use: target, policy: policy) else { throw .modelNotAllowed(target) }
            served = target
            routeHeader = "\(model);model=\(target)"
        } else if let scorer = runtime.routing.scorers[model] {
            let messages = (chat?.messages ?? []).map { (role: $0.role, text: $0.text) }
            let scored = scorer.score(ComplexityInput(messages: messages, toolCount: chat?.toolCount ?? 0, maxTokens: chat?.maxTokens))
            guard let result = scorer.restricted(scored, to: { Self.may(principal, use: $0, policy: policy) }) else {
                throw .modelNotAllowed(scored.model)
            }
            served = result.model
            routeHeader = result.headerValue(router: model)
        }
        return try plan(served: served, requested: model, routeHeader: routeHeader, stickyID: stickyID(model: served, chat: chat, principal: principal, policy: policy), runtime: runtime)
    }

    /// The plan for a concrete model (used again when degrading to a fallback model).
    func plan(served: String, requested: String, routeHeader: String?, stickyID: String?, runtime: RuntimePolicy) throws(GatewayError) -> RoutePlan {
        let policy = runtime.snapshot
        guard let settings = policy.models[served] else { throw .modelNotFound(served) }
        var index = 0
        if let canary = runtime.routing.canaries[served] {
            index = canary.pick(stickyID: stickyID) ?? 0
        }
        guard settings.variants.indices.contains(index) else { throw .serviceUnavailable("Model `\(served)` has no targets.") }
        let variant = settings.variants[index]
        return RoutePlan(
            requestedModel: requested, servedModel: served, variant: variant, variantIndex: index,
            targets: resolve(variant.targets, policy: policy), routeHeader: routeHeader, stickyID: stickyID)
    }

    /// Whether `principal` could request `model` by name: its team's list and the key's own list.
    /// Router tiers are held to the same lists, so `auto` is never a way around them.
    static func may(_ principal: Principal, use model: String, policy: PolicySnapshot) -> Bool {
        if let allowed = policy.teams[principal.team]?.models, !allowed.contains(model) { return false }
        if let keyModels = principal.models, !keyModels.contains(model) { return false }
        return true
    }

    func stickyID(model: String, chat: ChatCompletionRequest?, principal: Principal, policy: PolicySnapshot) -> String? {
        switch policy.models[model]?.sticky ?? .key {
        case .key: return principal.keyID
        case .user: return chat?.user ?? principal.keyID
        case .none: return nil
        }
    }

    func resolve(_ targets: [TargetSettings], policy: PolicySnapshot) -> [ResolvedTarget] {
        targets.compactMap { t in policy.providers[t.provider].map { ResolvedTarget(target: t, provider: $0) } }
    }
}
