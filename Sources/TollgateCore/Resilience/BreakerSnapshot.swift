/// A read-only view of one target's breaker and `Retry-After` deadline, for `/admin/status` and `/metrics`.
public struct BreakerSnapshot: Sendable, Equatable {
    public var target: TargetID
    public var phase: BreakerPhase
    public var failuresInWindow: Int
    public var openUntil: MonotonicInstant?
    public var probesInFlight: Int
    public var openCount: Int
    /// Set while the provider's `Retry-After` keeps the target out of rotation.
    public var notBefore: MonotonicInstant?

    public init(
        target: TargetID, phase: BreakerPhase, failuresInWindow: Int, openUntil: MonotonicInstant?,
        probesInFlight: Int, openCount: Int, notBefore: MonotonicInstant?
    ) {
        self.target = target
        self.phase = phase
        self.failuresInWindow = failuresInWindow
        self.openUntil = openUntil
        self.probesInFlight = probesInFlight
        self.openCount = openCount
        self.notBefore = notBefore
    }
}
