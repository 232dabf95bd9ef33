import CoreMetrics
import Prometheus
import Synchronization

/// The gateway's metrics: swift-metrics counters, recorders and gauges made by a Prometheus factory
/// over a registry owned by the server instance, rendered by `GET /metrics`.
///
/// The factory is passed to each metric instead of bootstrapping the process-global MetricsSystem,
/// so several in-process servers (as the integration tests start) never share counters, and a
/// library that bootstraps its own metrics backend cannot take the gateway's away.
struct GatewayMetrics: Sendable {
    private let factory: PrometheusMetricsFactory
    private let handles = MetricHandles()

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets[Self.upstreamSeconds] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
        self.factory = factory
    }

    /// Time from sending to a provider until its answer ended.
    private static let upstreamSeconds = "tollgate_upstream_seconds"

    func recordRequest(route: String, status: Int) {
        count("requests", labels: [("route", route), ("status", String(status))])
    }

    func recordUpstream(target: String, seconds: Double, failed: Bool) {
        handles.recorder(MetricHandles.Key(name: Self.upstreamSeconds, labels: [target])) {
            CoreMetrics.Recorder(label: Self.upstreamSeconds, dimensions: [("target", target)], aggregate: true, factory: factory)
        }.record(seconds)
        if failed { count("upstream_stream_failures", labels: [("target", target)]) }
    }

    /// Increments `tollgate_<name>_total`.
    func count(_ name: String, labels: [(String, String)] = [], by amount: Int64 = 1) {
        let key = MetricHandles.Key(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        handles.counter(key) {
            CoreMetrics.Counter(label: "tollgate_\(name)_total", dimensions: labels, factory: factory)
        }.increment(by: amount)
    }

    /// Sets `tollgate_<name>[_<unit>]`; called when metrics are scraped, not per request.
    func gauge(_ name: String, unit: String = "", labels: [(String, String)] = [], value: Double) {
        CoreMetrics.Gauge(label: "tollgate_\(name)" + (unit.isEmpty ? "" : "_\(unit)"), dimensions: labels, factory: factory).record(value)
    }

    func render() -> [UInt8] { factory.registry.emitToBuffer() }
}

/// The metric objects, kept per name and label values so the per-request path is one dictionary
/// lookup instead of building a metric and its strings for every event. Label values come from
/// bounded sets (routes, statuses, targets, codes), so the maps stay small.
final class MetricHandles: Sendable {
    struct Key: Hashable {
        let name: String
        let labels: [String]
    }

    private let counters = Mutex<[Key: CoreMetrics.Counter]>([:])
    private let recorders = Mutex<[Key: CoreMetrics.Recorder]>([:])

    func counter(_ key: Key, make: () -> CoreMetrics.Counter) -> CoreMetrics.Counter {
        if let known = counters.withLock({ $0[key] }) { return known }
        let made = make()
        counters.withLock { $0[key] = made }
        return made
    }

    func recorder(_ key: Key, make: () -> CoreMetrics.Recorder) -> CoreMetrics.Recorder {
        if let known = recorders.withLock({ $0[key] }) { return known }
        let made = make()
        recorders.withLock { $0[key] = made }
        return made
    }
}
