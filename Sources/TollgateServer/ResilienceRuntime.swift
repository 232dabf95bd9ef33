import Logging
import TollgateCore

/// The process-wide breakers and the per-policy retry settings, as the forwarder uses them.
///
/// Breakers live as long as the process (a reload keeps their state and applies the new
/// thresholds); transitions are logged and counted as they happen.
struct ResilienceRuntime: Sendable {
    let registry: BreakerRegistry

    init(metrics: GatewayMetrics, logger: Logger, config: BreakerSettings) {
        self.registry = BreakerRegistry(config: Self.config(config)) { target, transition in
            logger.warning(
                "circuit breaker transition",
                metadata: ["breaker.target": .string(target.description), "breaker.from": .string("\(transition.from)"), "breaker.to": .string("\(transition.to)")])
            metrics.count("breaker_transitions", labels: [("target", target.description), ("to", "\(transition.to)")])
        }
    }

    static func config(_ settings: BreakerSettings) -> CircuitBreakerConfig {
        CircuitBreakerConfig(
            failureThreshold: settings.failureThreshold, windowSeconds: Double(settings.windowSeconds),
            cooldownSeconds: Double(settings.cooldownSeconds), halfOpenProbes: settings.halfOpenProbes)
    }

    /// Applies a reloaded policy: new thresholds, and forget targets that no longer exist.
    func apply(_ snapshot: PolicySnapshot) {
        registry.updateConfig(Self.config(snapshot.circuitBreaker))
        var targets = Set<TargetID>()
        for model in snapshot.models.values {
            for variant in model.variants { for t in variant.targets { targets.insert(TargetID(provider: t.provider, model: t.model)) } }
        }
        registry.retain(only: targets)
    }

    func failoverPlan(_ plan: RoutePlan, policy: PolicySnapshot, allowDegrade: Bool) -> FailoverPlan {
        FailoverPlan(
            targets: plan.targets.map { TargetID(provider: $0.target.provider, model: $0.target.model) },
            retries: RetryConfig(max: policy.retries.max, backoffMs: policy.retries.backoffMs),
            degradeTo: allowDegrade ? policy.models[plan.servedModel]?.degradeTo : nil)
    }
}
