import Foundation

/// The outcome of `StateStore.admit`.
public enum AdmissionDecision: Sendable, Hashable {
    case admitted(Admission)
    case refused(AdmissionRefusal)
}

/// An admitted request: its reservation (settle or refund it exactly once) and the limit figures for
/// the `x-ratelimit-*` response headers.
public struct Admission: Sendable, Hashable {
    public var reservation: Reservation
    public var limits: [LimitStatus]
    /// How many requests' worth the store admitted: more than 1 only when a lease was asked for and
    /// there was room (then `reservation` and `limits` cover all of them).
    public var leasedMultiple: Int

    public init(reservation: Reservation, limits: [LimitStatus], leasedMultiple: Int = 1) {
        self.reservation = reservation
        self.limits = limits
        self.leasedMultiple = leasedMultiple
    }

    /// OpenAI's six rate-limit headers from the tightest requests and tokens limits (absent kinds omitted).
    public var rateLimitHeaders: [(String, String)] { limits.openAIRateLimitHeaders() }
}

/// Why a request was refused.
public enum AdmissionRefusal: Sendable, Hashable {
    /// A rate limit is full; `retryAfterSeconds` is when the same request would fit.
    case rateLimited(rule: String, kind: LimitKind, retryAfterSeconds: Double, limits: [LimitStatus])
    /// A budget ceiling is spent for this period; `resetsAt` is the period boundary (nil for `total`).
    case budgetExhausted(scope: String, period: BudgetPeriod, dimension: BudgetDimension, resetsAt: Date?)

    /// The OpenAI-shaped 429 this refusal becomes at `now` (`rate_limit_exceeded` with Retry-After,
    /// or `budget_exceeded` of type `insufficient_quota`, with Retry-After until a daily or monthly
    /// budget resets), plus the rate-limit headers when known.
    public func gatewayError(now: Date) -> GatewayError {
        switch self {
        case .rateLimited(_, let kind, let retryAfter, let limits):
            let unit = kind == .requests ? "requests" : "tokens"
            var error = GatewayError.rateLimited(
                "Rate limit reached for \(unit) per minute. Retry after \(RateLimitHeaderFormat.retryAfterSeconds(retryAfter)) s.",
                limit: unit, retryAfter: RateLimitHeaderFormat.retryAfterSeconds(retryAfter))
            error.headers += limits.openAIRateLimitHeaders()
            return error
        case .budgetExhausted(let scope, let period, let dimension, let resetsAt):
            let owner = scope == "team" ? "team" : "API key"
            let resetSeconds = resetsAt.map { Int($0.timeIntervalSince(now).rounded(.up)) }
            return GatewayError.budgetExceeded(
                "The \(period.rawValue) \(dimension == .usd ? "USD" : "token") budget of this \(owner) is exhausted.",
                retryAfter: resetSeconds)
        }
    }
}

extension Array where Element == LimitStatus {
    /// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` from the tightest limit of each kind.
    public func openAIRateLimitHeaders() -> [(String, String)] {
        var headers: [(String, String)] = []
        for (kind, suffix) in [(LimitKind.requests, "requests"), (LimitKind.tokens, "tokens")] {
            guard let status = tightest(kind) else { continue }
            headers.append(("x-ratelimit-limit-\(suffix)", String(status.limit)))
            headers.append(("x-ratelimit-remaining-\(suffix)", String(status.remaining)))
            headers.append(("x-ratelimit-reset-\(suffix)", RateLimitHeaderFormat.duration(seconds: status.resetAfterSeconds)))
        }
        return headers
    }
}
