import Foundation
import ServiceLifecycle
import TollgateCore

/// Builds the audit records of the request path; fields are ids, names and numbers only, never
/// prompt text, keys or PII (screening findings appear as rule ids and entity types).
struct AuditRecorder: Sendable {
    let trail: AuditTrail?

    private static func now() -> JSONValue {
        .string(Date().formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true)))
    }

    func proxied(
        requestID: String, endpoint: String, principal: Principal, requested: String, forwarded: ForwardedResponse,
        status: Int, stream: Bool, outcome: String, usage: TokenUsage?, flags: [String], latency: Double
    ) {
        guard let trail else { return }
        trail.record([
            ("ts", Self.now()), ("event", .string(endpoint)), ("request_id", .string(requestID)),
            ("key_id", .string(principal.keyID)), ("team", .string(principal.team)),
            ("model_requested", .string(requested)), ("model_served", .string(forwarded.plan.servedModel)),
            ("variant", .string(forwarded.plan.variant.name)), ("provider", .string(forwarded.target.provider.name)),
            ("route", forwarded.plan.routeHeader.map(JSONValue.string) ?? .null), ("degraded", .bool(forwarded.degraded)),
            ("attempts", .number(String(forwarded.attempts))), ("status", .number(String(status))), ("stream", .bool(stream)),
            ("outcome", .string(outcome)),
            ("prompt_tokens", usage.map { .number(String($0.promptTokens)) } ?? .null),
            ("completion_tokens", usage.map { .number(String($0.completionTokens)) } ?? .null),
            ("flags", .array(flags.map(JSONValue.string))), ("latency_ms", .number(String(Int(latency * 1000)))),
        ])
    }

    /// An answer served from the response cache: no provider was called.
    func cacheHit(
        requestID: String, endpoint: String, principal: Principal, requested: String, plan: RoutePlan, provider: String, stream: Bool,
        flags: [String], latency: Double
    ) {
        guard let trail else { return }
        trail.record([
            ("ts", Self.now()), ("event", .string(endpoint)), ("request_id", .string(requestID)),
            ("key_id", .string(principal.keyID)), ("team", .string(principal.team)),
            ("model_requested", .string(requested)), ("model_served", .string(plan.servedModel)),
            ("variant", .string(plan.variant.name)), ("provider", .string(provider)),
            ("route", plan.routeHeader.map(JSONValue.string) ?? .null), ("status", .number("200")), ("stream", .bool(stream)),
            ("outcome", .string("cache_hit")), ("prompt_tokens", .number("0")), ("completion_tokens", .number("0")),
            ("flags", .array(flags.map(JSONValue.string))), ("latency_ms", .number(String(Int(latency * 1000)))),
        ])
    }

    /// A refused request; `principal` is the key that was refused when it authenticated (nil for a
    /// missing or invalid key).
    func refused(requestID: String, endpoint: String, principal: Principal?, error: GatewayError) {
        guard let trail else { return }
        trail.record([
            ("ts", Self.now()), ("event", .string(endpoint)), ("request_id", .string(requestID)),
            ("key_id", principal.map { .string($0.keyID) } ?? .null), ("team", principal.map { .string($0.team) } ?? .null),
            ("status", .number(String(error.status))), ("outcome", .string("refused")),
            ("error_code", error.code.map(JSONValue.string) ?? .null), ("error_type", .string(error.type)),
        ])
    }

    func admin(action: String, keyID: String, team: String, requestID: String) {
        trail?.record([
            ("ts", Self.now()), ("event", .string(action)), ("request_id", .string(requestID)),
            ("key_id", .string(keyID)), ("team", .string(team)),
        ])
    }
}

/// Flushes and closes the audit trail when the server stops.
struct AuditService: Service {
    let trail: AuditTrail

    func run() async throws {
        try? await gracefulShutdown()
        trail.close()
    }
}
