/// Cumulative counters of one canary variant since the monitor was created, for `/metrics` (as Prometheus
/// counters) and `/admin/status`.
public struct VariantCounters: Sendable, Equatable {
    public var requests = 0
    public var errors = 0
    public var latencySum: Duration = .zero
    public var latencyCount = 0

    public init() {}

    /// Mean latency of the recorded requests, nil before the first one.
    public var meanLatency: Duration? { latencyCount > 0 ? latencySum / latencyCount : nil }
}
