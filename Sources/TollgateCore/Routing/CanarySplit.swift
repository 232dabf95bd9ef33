import Synchronization

/// The live canary state of one model, shared by all requests: the picker, the rollback monitor, and the
/// exclusions the monitor decided, kept consistent under one lock.
///
/// Build one per model per policy snapshot, passing the previous snapshot's split: when the model's
/// `variants`/`sticky`/`rollback` are unchanged the rollbacks and windows carry over (an edit elsewhere in
/// the file must not bring a bad canary back); when they changed, rollbacks are lifted, as the policy's
/// author has acted. Cumulative counters carry over whenever the number of variants is the same.
public final class CanarySplit: Sendable {
    public let model: String
    public let config: CanaryConfig
    public let rollbacks: [RollbackConfig?]

    private struct State {
        var picker: CanaryPicker
        var monitor: CanaryRollbackMonitor
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - rollbacks: one entry per variant (nil without `rollback`); padded or cut to the variant count.
    ///   - previous: the same model's split from the snapshot being replaced, if any.
    public init(model: String, config: CanaryConfig, rollbacks: [RollbackConfig?], previous: CanarySplit? = nil) {
        let count = config.weights.count
        let fitted = Array((rollbacks + Array(repeating: nil, count: max(0, count - rollbacks.count))).prefix(count))
        self.model = model
        self.config = config
        self.rollbacks = fitted
        var monitor = CanaryRollbackMonitor(rollbacks: fitted)
        if let previous {
            let old = previous.state.withLock { $0.monitor }
            if previous.config == config && previous.rollbacks == fitted {
                monitor = old
            } else {
                monitor = old
                monitor.reconfigure(rollbacks: fitted)
            }
        }
        let picker = CanaryPicker(weights: config.weights, sticky: config.sticky, salt: model, excluded: monitor.rolledBack)
        state = Mutex(State(picker: picker, monitor: monitor))
    }

    /// The variant for a request; nil only when no variant has weight (validation prevents that).
    ///
    /// - Parameter stickyID: the key id for `sticky: key`, the request's `user` for `sticky: user`.
    public func pick(stickyID: String?, using random: inout some RandomNumberGenerator) -> Int? {
        // Sticky picks need no randomness; draw outside the lock only what a `none` pick needs.
        let slot = Int.random(in: 0..<CanaryPicker.ringSize, using: &random)
        return state.withLock { state in
            if state.picker.sticky != .none, let stickyID {
                return state.picker.variant(atSlot: CanaryPicker.slot(for: stickyID, salt: model))
            }
            return state.picker.variant(atSlot: slot)
        }
    }

    /// `pick` with the system random source.
    public func pick(stickyID: String?) -> Int? {
        var random = SystemRandomNumberGenerator()
        return pick(stickyID: stickyID, using: &random)
    }

    /// Records a finished request; when it triggers a rollback the variant is excluded at once and the decision
    /// is returned (exactly once) for the log line and `/admin/status`.
    @discardableResult
    public func record(variant: Int, failed: Bool, latency: Duration, now: MonotonicInstant)
        -> CanaryRollbackMonitor.RollbackDecision?
    {
        state.withLock { state in
            let decision = state.monitor.record(variant: variant, failed: failed, latency: latency, now: now)
            if decision != nil { state.picker = state.picker.excluding(state.monitor.rolledBack) }
            return decision
        }
    }

    /// One line per variant for `/admin/status` and `/metrics`.
    public func status(now: MonotonicInstant) -> [CanaryVariantStatus] {
        state.withLock { state in
            config.weights.indices.map { index in
                let window = state.monitor.window(variant: index, now: now)
                let rolledBack = state.monitor.rolledBack.contains(index)
                return CanaryVariantStatus(
                    index: index, weight: config.weights[index], effectiveWeight: rolledBack ? 0 : max(0, config.weights[index]),
                    rolledBack: rolledBack, counters: state.monitor.counters[index],
                    windowRequests: window.requests, windowErrors: window.errors)
            }
        }
    }
}

/// The state of one canary variant as `/admin/status` shows it.
public struct CanaryVariantStatus: Sendable, Equatable {
    public var index: Int
    /// The weight in the policy.
    public var weight: Int
    /// 0 while rolled back.
    public var effectiveWeight: Int
    public var rolledBack: Bool
    public var counters: VariantCounters
    public var windowRequests: Int
    public var windowErrors: Int
}
