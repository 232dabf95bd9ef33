/// Watches the error rate of each canary variant and decides, once, when one must be rolled back.
///
/// Per variant it keeps cumulative counters and a rolling window of successes and failures. When a
/// variant with a `rollback` block has at least `min_requests` in its window and an error rate strictly above
/// `max_error_rate`, `record` returns a `RollbackDecision` exactly once; the caller then excludes the variant
/// (weight 0, `CanaryPicker.excluding`) until the policy file changes, which creates a new monitor or calls
/// `reconfigure`. The monitor never rolls back the last variant still in rotation, because that would leave the
/// model with nothing to serve.
///
/// A value type: guard it with the same lock as the picker it feeds.
public struct CanaryRollbackMonitor: Sendable {
    /// Why a variant was rolled back, for the log line and `/admin/status`.
    public struct RollbackDecision: Sendable, Equatable {
        public var variant: Int
        public var requests: Int
        public var errors: Int
        public var errorRate: Double
        public var at: MonotonicInstant
    }

    public private(set) var rollbacks: [RollbackConfig?]
    public private(set) var counters: [VariantCounters]
    /// Variants rolled back since the last (re)configuration.
    public private(set) var rolledBack: Set<Int> = []
    private var windows: [RollingOutcomeWindow?]
    private var origin: MonotonicInstant?

    /// - Parameter rollbacks: one entry per variant, in policy order; nil for a variant without `rollback`.
    public init(rollbacks: [RollbackConfig?]) {
        self.rollbacks = rollbacks
        counters = Array(repeating: VariantCounters(), count: rollbacks.count)
        windows = rollbacks.map { $0.map { RollingOutcomeWindow(window: .policySeconds($0.windowSeconds)) } }
    }

    /// Records the end of one request served by `variant`; returns a decision the first time the variant
    /// crosses its rollback rule. Out-of-range variants are ignored.
    @discardableResult
    public mutating func record(variant: Int, failed: Bool, latency: Duration, now: MonotonicInstant)
        -> RollbackDecision?
    {
        guard counters.indices.contains(variant) else { return nil }
        counters[variant].requests += 1
        if failed { counters[variant].errors += 1 }
        counters[variant].latencySum += latency
        counters[variant].latencyCount += 1

        guard let rule = rollbacks[variant], windows[variant] != nil else { return nil }
        let elapsed = now - (origin ?? now)
        if origin == nil { origin = now }
        windows[variant]?.add(failure: failed, elapsed: elapsed)
        guard !rolledBack.contains(variant), let totals = windows[variant]?.totals(elapsed: elapsed) else { return nil }
        guard totals.requests >= max(1, rule.minRequests) else { return nil }
        let rate = Double(totals.failures) / Double(totals.requests)
        guard rate > rule.maxErrorRate else { return nil }
        guard rolledBack.count + 1 < counters.count else { return nil }  // keep one variant in rotation
        rolledBack.insert(variant)
        return RollbackDecision(variant: variant, requests: totals.requests, errors: totals.failures, errorRate: rate, at: now)
    }

    /// Requests and errors currently inside `variant`'s rollback window (zeros without a rule).
    public func window(variant: Int, now: MonotonicInstant) -> (requests: Int, errors: Int) {
        guard windows.indices.contains(variant), let window = windows[variant] else { return (0, 0) }
        let totals = window.totals(elapsed: now - (origin ?? now))
        return (totals.requests, totals.failures)
    }

    /// Applies an edited policy: rollbacks are lifted and windows restart; cumulative counters survive when the
    /// number of variants is unchanged, so `/metrics` counters do not reset on every reload.
    public mutating func reconfigure(rollbacks newRollbacks: [RollbackConfig?]) {
        let kept = newRollbacks.count == counters.count ? counters : nil
        self = CanaryRollbackMonitor(rollbacks: newRollbacks)
        if let kept { counters = kept }
    }
}
