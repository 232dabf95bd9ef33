import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, on a registry owned by the server instance.
///
/// A registry per server (instead of the process-global MetricsSystem) keeps several
/// in-process servers, as the integration tests start, from sharing counters.
struct GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let handles = MetricHandles()

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private static func descriptor(_ name: String, unit: String, help: String = "") -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tollgate", metricName: name, unitName: unit, helpText: help)
    }

    func recordRequest(route: String, status: Int) {
        count("requests", labels: [("route", route), ("status", String(status))])
    }

    func recordUpstream(target: String, seconds: Double, failed: Bool) {
        handles.histogram(MetricHandles.Key(name: "upstream", labels: [target])) {
            registry.makeValueHistogram(
                descriptor: Self.descriptor("upstream", unit: "seconds", help: "Time from sending to a provider until its answer ended."),
                labels: [("target", target)],
                buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
        }.record(seconds)
        if failed { count("upstream_stream_failures", labels: [("target", target)]) }
    }

    /// Increments `tollgate_<name>_total`.
    func count(_ name: String, labels: [(String, String)] = [], by amount: Int64 = 1) {
        let key = MetricHandles.Key(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        handles.counter(key) {
            registry.makeCounter(descriptor: Self.descriptor(name, unit: "total"), labels: labels)
        }.increment(by: amount)
    }

    /// Sets `tollgate_<name>` (unit may be empty).
    func gauge(_ name: String, unit: String = "", labels: [(String, String)] = [], value: Double) {
        registry.makeGauge(descriptor: Self.descriptor(name, unit: unit), labels: labels).set(value)
    }

    func render() -> [UInt8] { registry.emitToBuffer() }
}

/// The registry's metric objects, kept per name and label values so the per-request path is one
/// dictionary lookup instead of building a descriptor and its strings for every event.
/// Label values come from bounded sets (routes, statuses, targets, codes), so the maps stay small.
final class MetricHandles: Sendable {
    struct Key: Hashable {
        let name: String
        let labels: [String]
    }

    private let counters = Mutex<[Key: Counter]>([:])
    private let histograms = Mutex<[Key: ValueHistogram]>([:])

    func counter(_ key: Key, make: () -> Counter) -> Counter {
        if let known = counters.withLock({ $0[key] }) { return known }
        let made = make()
        counters.withLock { $0[key] = made }
        return made
    }

    func histogram(_ key: Key, make: () -> ValueHistogram) -> ValueHistogram {
        if let known = histograms.withLock({ $0[key] }) { return known }
        let made = make()
        histograms.withLock { $0[key] = made }
        return made
    }
}
