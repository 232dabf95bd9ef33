import Foundation
import TollgateCore
import TollgateStore

/// Breaker and canary state for `/admin/status` and `/metrics`.
enum StatusReport {
    /// The store: for the embedded one its persistence health (a full disk stops counters reaching the
    /// data directory), for Redis the admission mode and how many leases this replica holds.
    static func members(store: any StateStore, leases: AdmissionLeases?, policy: RuntimePolicy) -> [(String, JSONValue)] {
        guard let memory = store as? MemoryStore else {
            return [
                ("store", .object([
                    ("backend", .string("redis")), ("admission", .string(policy.snapshot.state.admission.rawValue)),
                    ("leases_held", .number(String(leases?.leaseCount ?? 0))),
                ]))
            ]
        }
        return [
            ("store", .object([
                ("backend", .string("memory")),
                ("counters_persistence_error", memory.countersPersistenceError.map(JSONValue.string) ?? .null),
            ]))
        ]
    }

    static func members(resilience: ResilienceRuntime, policy: RuntimePolicy) -> [(String, JSONValue)] {
        let now = MonotonicInstant.now()
        let breakers: [JSONValue] = resilience.registry.snapshot(now: now).map { b in
            .object([
                ("target", .string(b.target.description)), ("state", .string(b.phase.rawValue)),
                ("failures_in_window", .number(String(b.failuresInWindow))), ("times_opened", .number(String(b.openCount))),
                ("probes_in_flight", .number(String(b.probesInFlight))),
                ("open_for_s", b.openUntil.map { .number(String(format: "%.1f", max(0, ($0 - now).secondsDouble))) } ?? .null),
                ("retry_after_s", b.notBefore.map { .number(String(format: "%.1f", max(0, ($0 - now).secondsDouble))) } ?? .null),
            ])
        }
        var canaries: [(String, JSONValue)] = []
        for (model, split) in policy.routing.canaries.sorted(by: { $0.key < $1.key }) {
            let variants = policy.snapshot.models[model]?.variants ?? []
            let status: [JSONValue] = split.status(now: now).map { v in
                .object([
                    ("variant", .string(variants.indices.contains(v.index) ? variants[v.index].name : String(v.index))),
                    ("weight", .number(String(v.weight))), ("effective_weight", .number(String(v.effectiveWeight))),
                    ("rolled_back", .bool(v.rolledBack)),
                    ("requests", .number(String(v.counters.requests))), ("errors", .number(String(v.counters.errors))),
                    ("window_requests", .number(String(v.windowRequests))), ("window_errors", .number(String(v.windowErrors))),
                ])
            }
            canaries.append((model, .array(status)))
        }
        return [("breakers", .array(breakers)), ("canaries", .object(canaries))]
    }

    /// Breaker phase (0 closed, 1 half-open, 2 open) and canary effective weights as gauges.
    static func exportGauges(metrics: GatewayMetrics, resilience: ResilienceRuntime, policy: RuntimePolicy) {
        let now = MonotonicInstant.now()
        for b in resilience.registry.snapshot(now: now) {
            let value: Double
            switch b.phase.rawValue {
            case "open": value = 2
            case "halfOpen", "half_open": value = 1
            default: value = 0
            }
            metrics.gauge("breaker_state", labels: [("target", b.target.description)], value: value)
        }
        for (model, split) in policy.routing.canaries {
            let variants = policy.snapshot.models[model]?.variants ?? []
            for v in split.status(now: now) {
                let name = variants.indices.contains(v.index) ? variants[v.index].name : String(v.index)
                metrics.gauge("canary_effective_weight", labels: [("model", model), ("variant", name)], value: Double(v.effectiveWeight))
            }
        }
    }
}
