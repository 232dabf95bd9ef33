/// Which quantity a limit counts; decides which `x-ratelimit-*-requests|tokens` headers it feeds.
public enum LimitKind: String, Sendable, Hashable, Codable {
    case requests
    case tokens
}

/// The largest rate limit (requests or tokens per window) and budget ceilings the gateway accepts.
///
/// Beyond these the limit math (microsecond TATs, ten-window debt, the Lua script's doubles, exact to
/// 2^53) would overflow or lose precision; they are far above any real limit (a trillion per minute,
/// a quadrillion tokens, a billion dollars).
public enum LimitBounds {
    public static let maximumRate = 1_000_000_000_000
    public static let maximumBudgetTokens = 1_000_000_000_000_000
    public static let maximumBudgetUSD: Double = 1_000_000_000
}

/// One rate limit to check during admission, e.g. the team's rpm or a key's tpm override.
///
/// `key` names the limit within its team (for example `team:rpm` or `key:key_ab12:tpm`); the store
/// namespaces it by team, so two teams never share a bucket. All rules of one admission are checked
/// together and applied all-or-nothing.
public struct LimitRule: Sendable, Hashable, Codable {
    public var key: String
    public var kind: LimitKind
    public var limit: Int
    public var cost: Int
    public var windowSeconds: Int

    public init(key: String, kind: LimitKind, limit: Int, cost: Int, windowSeconds: Int = 60) {
        self.key = key
        self.kind = kind
        self.limit = limit
        self.cost = cost
        self.windowSeconds = windowSeconds
    }

    /// Requests per minute: every request costs one.
    public static func requestsPerMinute(key: String, limit: Int) -> LimitRule {
        LimitRule(key: key, kind: .requests, limit: limit, cost: 1)
    }

    /// Tokens per minute: the request costs its token estimate, corrected at settle time.
    public static func tokensPerMinute(key: String, limit: Int, estimatedTokens: Int) -> LimitRule {
        LimitRule(key: key, kind: .tokens, limit: limit, cost: estimatedTokens)
    }

    public var gcra: GCRA { GCRA(limit: limit, windowSeconds: windowSeconds) }
}

/// Where one limit stands after an admission: the numbers behind OpenAI's rate-limit headers.
public struct LimitStatus: Sendable, Hashable, Codable {
    public var key: String
    public var kind: LimitKind
    public var limit: Int
    public var remaining: Int
    /// Seconds until the limit is back to full (`x-ratelimit-reset-*`).
    public var resetAfterSeconds: Double

    public init(key: String, kind: LimitKind, limit: Int, remaining: Int, resetAfterSeconds: Double) {
        self.key = key
        self.kind = kind
        self.limit = limit
        self.remaining = remaining
        self.resetAfterSeconds = resetAfterSeconds
    }
}

extension Array where Element == LimitStatus {
    /// The status with the fewest remaining units of a kind: what the response headers should show
    /// when both the team and the key limit requests.
    public func tightest(_ kind: LimitKind) -> LimitStatus? {
        filter { $0.kind == kind }.min { lhs, rhs in
            lhs.remaining != rhs.remaining ? lhs.remaining < rhs.remaining : lhs.resetAfterSeconds > rhs.resetAfterSeconds
        }
    }
}
