/// Generic Cell Rate Algorithm: the rate-limit math both stores share.
///
/// GCRA keeps one number per limit, the theoretical arrival time (TAT): the instant at which the
/// bucket would be full again. It behaves exactly like a token bucket of capacity `limit` that refills
/// one unit every `window / limit`, but needs no timer and no per-request log, so a Redis Lua script can
/// apply it in O(1) with a single key. All times are integer microseconds so Swift and Lua (whose
/// numbers are doubles, exact up to 2^53) compute bit-identical results.
public struct GCRA: Sendable, Hashable {
    /// Units allowed per window (requests or tokens).
    public let limit: Int
    /// Window length in microseconds (60 s for rpm/tpm).
    public let windowMicros: Int64

    /// `limit` is clamped to `LimitBounds.maximumRate` so the arithmetic below cannot overflow, whatever
    /// the caller passes (policy validation refuses larger limits with a message).
    public init(limit: Int, windowSeconds: Int) {
        self.limit = min(limit, LimitBounds.maximumRate)
        self.windowMicros = Int64(max(1, windowSeconds)) * 1_000_000
    }

    /// Time one unit takes to refill; rounded down to whole microseconds, at least 1.
    public var emissionIntervalMicros: Int64 {
        guard limit > 0 else { return windowMicros }
        return max(1, windowMicros / Int64(limit))
    }

    /// How far the TAT may run ahead of now: a full bucket's worth of units.
    public var toleranceMicros: Int64 {
        guard limit > 0 else { return 0 }
        return emissionIntervalMicros * Int64(limit)
    }

    /// Clamps a cost so the arithmetic cannot overflow and debt stays bounded (ten windows at most).
    ///
    /// A request may cost more than the whole limit (a 50k-token prompt against a 40k tpm): it is admitted
    /// when the bucket is full and then pays the full cost as debt, rather than being refused forever.
    public func normalizedCost(_ cost: Int) -> Int64 {
        let upper = Int64(max(1, limit)) * 10
        return min(max(Int64(cost), 0), upper)
    }

    /// Decides whether `cost` units fit now, given the stored TAT (0 when the key is absent).
    public func evaluate(tat: Int64, now: Int64, cost: Int) -> GCRAOutcome {
        let interval = emissionIntervalMicros
        guard limit > 0 else {
            return GCRAOutcome(
                allowed: false, newTAT: tat, remaining: 0, resetAfterMicros: windowMicros,
                retryAfterMicros: windowMicros)
        }
        let charge = normalizedCost(cost)
        let tolerance = toleranceMicros
        let base = max(tat, now)
        // The admission test uses at most one full bucket, so an oversize request can still pass when idle.
        let check = base + min(charge, Int64(limit)) * interval
        if check - now > tolerance {
            let remaining = max(0, (tolerance - (base - now)) / interval)
            return GCRAOutcome(
                allowed: false, newTAT: tat, remaining: Int(remaining), resetAfterMicros: base - now,
                retryAfterMicros: check - now - tolerance)
        }
        let newTAT = base + charge * interval
        let remaining = max(0, (tolerance - (newTAT - now)) / interval)
        return GCRAOutcome(
            allowed: true, newTAT: newTAT, remaining: Int(remaining), resetAfterMicros: newTAT - now,
            retryAfterMicros: 0)
    }

    /// Moves a TAT by `delta` units after the fact (settling actual tokens against the reservation).
    ///
    /// A negative delta gives units back; the TAT never goes below `now - tolerance` worth of meaning,
    /// so it is floored at zero only (any TAT in the past already means "full bucket").
    public func adjust(tat: Int64, byUnits delta: Int) -> Int64 {
        let bounded = max(min(Int64(delta), Int64(max(1, limit)) * 10), -Int64(max(1, limit)) * 10)
        return max(0, tat + bounded * emissionIntervalMicros)
    }
}

/// Result of one GCRA evaluation; the figures feed the `x-ratelimit-*` headers and `Retry-After`.
public struct GCRAOutcome: Sendable, Hashable {
    public var allowed: Bool
    /// TAT to store when allowed (unchanged when refused).
    public var newTAT: Int64
    /// Units still available right after this decision.
    public var remaining: Int
    /// Time until the bucket is full again (OpenAI's `x-ratelimit-reset-*`).
    public var resetAfterMicros: Int64
    /// When refused: the earliest time the same request would fit.
    public var retryAfterMicros: Int64
}
