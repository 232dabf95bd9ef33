/// The one error type every refusal of the gateway is expressed in.
///
/// It carries exactly what an OpenAI-compatible client expects to parse
/// (`{"error":{"message","type","param","code"}}`) plus the HTTP status, so any stage can
/// refuse a request without knowing how the server renders it. Codes are static members so
/// new ones can be added without breaking callers.
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var type: String
    public var code: String?
    public var message: String
    public var param: String?
    /// Extra response headers the refusal needs (for example `retry-after` on a 429).
    public var headers: [(String, String)]

    public init(
        status: Int, type: String, code: String?, message: String, param: String? = nil,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers
    }

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool {
        lhs.status == rhs.status && lhs.type == rhs.type && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.param == rhs.param
    }

    public var description: String { "\(status) \(code ?? type): \(message)" }

    /// 400: the request cannot be understood or is missing something.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> GatewayError {
        GatewayError(status: 400, type: "invalid_request_error", code: code, message: message, param: param)
    }

    /// 401: unknown, revoked or expired key.
    public static func invalidAPIKey(_ message: String = "Incorrect API key provided.") -> GatewayError {
        GatewayError(status: 401, type: "invalid_request_error", code: "invalid_api_key", message: message)
    }

    /// 403: the key's team may not use this model.
    public static func modelNotAllowed(_ model: String) -> GatewayError {
        GatewayError(
            status: 403, type: "invalid_request_error", code: "model_not_allowed",
            message: "The model `\(model)` is not allowed for this API key.", param: "model")
    }

    /// 404: no such model in the policy.
    public static func modelNotFound(_ model: String) -> GatewayError {
        GatewayError(
            status: 404, type: "invalid_request_error", code: "model_not_found",
            message: "The model `\(model)` does not exist.", param: "model")
    }

    /// 403: a screening rule blocked the request; names rule ids, never the matched text.
    public static func policyViolation(rules: [String]) -> GatewayError {
        GatewayError(
            status: 403, type: "invalid_request_error", code: "policy_violation",
            message: "The request was blocked by content policy (rules: \(rules.joined(separator: ", "))).")
    }

    /// 413: the body exceeds the configured limit.
    public static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: 413, type: "invalid_request_error", code: "request_too_large",
            message: "The request body exceeds the limit of \(limit) bytes.")
    }

    /// 415: the body is compressed (`Content-Encoding`); screening and limits must read it, and an
    /// OpenAI client never compresses requests, so it is refused with a clear reason rather than a
    /// JSON parse error about bytes the client did not write.
    public static func unsupportedContentEncoding(_ encoding: String) -> GatewayError {
        GatewayError(
            status: 415, type: "invalid_request_error", code: "unsupported_content_encoding",
            message: "Request bodies with Content-Encoding '\(encoding.prefix(40))' are not supported; send the JSON uncompressed.")
    }

    /// 429: a rate limit was hit; `retryAfter` seconds go into `Retry-After`. The type names the
    /// limit, `requests` or `tokens`, as OpenAI's own rate-limit errors do.
    public static func rateLimited(_ message: String, limit type: String = "requests", retryAfter: Int) -> GatewayError {
        GatewayError(
            status: 429, type: type, code: "rate_limit_exceeded", message: message,
            headers: [("retry-after", String(max(1, retryAfter)))])
    }

    /// 429: a token or dollar budget is spent (OpenAI's `insufficient_quota` type).
    ///
    /// `x-should-retry: false` stops the OpenAI SDKs from retrying at once (they retry every 429 by
    /// default, and a spent budget does not come back in seconds); `Retry-After` says when the
    /// period resets, when it does.
    public static func budgetExceeded(_ message: String, retryAfter: Int? = nil) -> GatewayError {
        var headers: [(String, String)] = [("x-should-retry", "false")]
        if let retryAfter { headers.append(("retry-after", String(max(1, retryAfter)))) }
        return GatewayError(status: 429, type: "insufficient_quota", code: "budget_exceeded", message: message, headers: headers)
    }

    /// 404 for unknown routes.
    public static func notFound(_ message: String) -> GatewayError {
        GatewayError(status: 404, type: "invalid_request_error", code: "not_found", message: message)
    }

    /// 405 for a known route with the wrong method.
    public static func methodNotAllowed(_ message: String) -> GatewayError {
        GatewayError(status: 405, type: "invalid_request_error", code: "method_not_allowed", message: message)
    }

    /// 403: the admin API has no token configured, or the token is wrong.
    public static func adminForbidden(_ message: String) -> GatewayError {
        GatewayError(status: 403, type: "invalid_request_error", code: "admin_forbidden", message: message)
    }

    /// 502: the provider answered with something unusable.
    public static func badGateway(_ message: String) -> GatewayError {
        GatewayError(status: 502, type: "api_error", code: "upstream_error", message: message)
    }

    /// 503: no target can take the request (all breakers open, all attempts failed).
    public static func serviceUnavailable(_ message: String) -> GatewayError {
        GatewayError(status: 503, type: "api_error", code: "upstream_unavailable", message: message)
    }

    /// 503: the state store (keys, limits, budgets) cannot answer and the policy fails closed. Its own
    /// code, so a client or an operator can tell it from a provider outage; `Retry-After: 1` because
    /// the store reconnects by itself within seconds.
    public static func stateStoreUnavailable(_ message: String) -> GatewayError {
        var error = GatewayError(status: 503, type: "api_error", code: "state_store_unavailable", message: message)
        error.headers.append(("retry-after", "1"))
        return error
    }

    /// 504: the provider did not answer in time.
    public static func gatewayTimeout(_ message: String) -> GatewayError {
        GatewayError(status: 504, type: "api_error", code: "upstream_timeout", message: message)
    }

    /// 500 for the gateway's own faults; never carries internal detail.
    public static func internalError(_ message: String = "The gateway hit an internal error.") -> GatewayError {
        GatewayError(status: 500, type: "api_error", code: "internal_error", message: message)
    }
}
