import Foundation
import Hummingbird
import Logging
import TollgateCore
import TollgateStore

/// The admin API: issue, list and revoke team keys, and read usage.
///
/// Secrets are generated here, returned once in the 201 response, and stored only as
/// SHA-256; nothing this handler logs contains a secret.
struct AdminHandler: Sendable {
    let holder: PolicyHolder
    let store: any StateStore
    let settler: UsageSettler
    let adminToken: String?
    let audit: AuditRecorder
    /// Drops a revoked key from this replica's auth cache before the DELETE answers, so the very next
    /// request is refused; the store's invalidation message only reaches the cache asynchronously.
    var onRevoke: @Sendable (String) -> Void = { _ in }

    static let maxNameLength = 200

    func createKey(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try AdminAuth.check(request, token: adminToken)
        let bytes = try await BodyReader.read(request, limit: 64 * 1024)
        let (body, _) = try RequestParsing.object(bytes)
        let policy = holder.policy.snapshot
        guard let team = body["team"]?.stringValue, !team.isEmpty else {
            throw GatewayError.invalidRequest("Missing required parameter: 'team'.", param: "team")
        }
        guard let teamSettings = policy.teams[team] else {
            throw GatewayError.invalidRequest("Unknown team `\(team.prefix(100))`; teams are declared in the policy.", param: "team")
        }
        var name = ""
        if let value = body["name"], value != .null {
            guard let text = value.stringValue else { throw GatewayError.invalidRequest("Invalid type for 'name': expected a string.", param: "name") }
            guard text.count <= Self.maxNameLength else {
                throw GatewayError.invalidRequest("'name' is longer than \(Self.maxNameLength) characters.", param: "name")
            }
            name = text
        }
        let now = Date()
        var expiresAt: Date?
        if let value = body["expires_at"], value != .null {
            guard let text = value.stringValue, let date = RFC3339.parse(text) else {
                throw GatewayError.invalidRequest("'expires_at' must be an RFC 3339 timestamp such as 2026-12-31T23:59:59Z.", param: "expires_at")
            }
            guard date > now else { throw GatewayError.invalidRequest("'expires_at' is in the past.", param: "expires_at") }
            expiresAt = date
        }
        let rpm = try overrideLimit(body, "rpm", teamLimit: teamSettings.rpm)
        let tpm = try overrideLimit(body, "tpm", teamLimit: teamSettings.tpm)
        var models: [String]?
        if let value = body["models"], value != .null {
            guard let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw GatewayError.invalidRequest("Invalid type for 'models': expected an array of strings.", param: "models")
            }
            let names = list.compactMap(\.stringValue)
            let allowed = Set(policy.allowedModels(for: teamSettings))
            if let outside = names.first(where: { !allowed.contains($0) }) {
                throw GatewayError.invalidRequest("Model `\(outside.prefix(100))` is not allowed for team `\(team)`.", param: "models")
            }
            models = names
        }
        let secret = try APIKeySecret.generate()
        let record = APIKeyRecord(
            id: try APIKeyID.generate(), team: team, name: name, hash: secret.hash, createdAt: now, expiresAt: expiresAt,
            revokedAt: nil, rpm: rpm, tpm: tpm, models: models)
        try await storeCall { try await store.insertKey(record) }
        context.logger.info("admin created key", metadata: ["key.id": .string(record.id), "key.team": .string(team)])
        audit.admin(action: "admin.key.create", keyID: record.id, team: team, requestID: context.requestID)
        var json = Self.json(record)
        json = json.setting("key", to: .string(secret.plaintext))
        return JSONResponse.make(json, status: .created)
    }

    func listKeys(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try AdminAuth.check(request, token: adminToken)
        let team = request.uri.queryParameters.get("team")
        let records = try await storeCall { try await store.listKeys(team: team) }
        return JSONResponse.make(.object([("object", .string("list")), ("data", .array(records.map(Self.json)))]))
    }

    func revokeKey(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try AdminAuth.check(request, token: adminToken)
        guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 100 else {
            throw GatewayError.invalidRequest("A key id is required.", param: "id")
        }
        guard let record = try await storeCall({ try await store.revokeKey(id: id, at: Date()) }) else {
            throw GatewayError.notFound("No key with id `\(id.prefix(100))`.")
        }
        onRevoke(record.hash)
        context.logger.info("admin revoked key", metadata: ["key.id": .string(record.id), "key.team": .string(record.team)])
        audit.admin(action: "admin.key.revoke", keyID: record.id, team: record.team, requestID: context.requestID)
        return JSONResponse.make(Self.json(record))
    }

    func usage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try AdminAuth.check(request, token: adminToken)
        let policy = holder.policy.snapshot
        guard let team = request.uri.queryParameters.get("team"), !team.isEmpty else {
            throw GatewayError.invalidRequest("Missing required query parameter: 'team'.", param: "team")
        }
        guard let settings = policy.teams[team] else { throw GatewayError.notFound("Unknown team `\(team.prefix(100))`.") }
        let period = BudgetPeriod(rawValue: (settings.budget?.period ?? .monthly).rawValue) ?? .monthly
        // This replica's corrections still in flight land first, so a client reading its usage right
        // after a response sees that response (other replicas' land within their own round trip).
        await settler.drain(timeout: .seconds(2))
        let report = try await storeCall { try await store.usage(team: team, period: period, now: Date()) }
        func counters(_ c: UsageCounters) -> JSONValue {
            .object([
                ("requests", .number(String(c.requests))), ("prompt_tokens", .number(String(c.promptTokens))),
                ("completion_tokens", .number(String(c.completionTokens))),
                ("total_tokens", .number(String(c.promptTokens + c.completionTokens))),
                ("cost_usd", .number(String(format: "%.6f", c.costUSD))),
            ])
        }
        let formatter = ISO8601DateFormatter()
        var budget: JSONValue = .null
        if let b = settings.budget {
            budget = .object([
                ("tokens", b.tokens.map { .number(String($0)) } ?? .null), ("usd", b.usd.map { .number(String($0)) } ?? .null),
                ("period", .string(b.period.rawValue)),
            ])
        }
        let total = report.total
        // The team's totals at the top (what a dashboard or a script reads first), the same numbers
        // again with the token split under `total`, and per key under `keys`.
        return JSONResponse.make(.object([
            ("team", .string(team)), ("requests", .number(String(total.requests))),
            ("tokens", .number(String(total.promptTokens + total.completionTokens))),
            ("cost_usd", .number(String(format: "%.6f", total.costUSD))),
            ("period", .string(report.period.rawValue)), ("period_key", .string(report.periodKey)),
            ("period_start", report.periodStart.map { .string(formatter.string(from: $0)) } ?? .null),
            ("period_end", report.periodEnd.map { .string(formatter.string(from: $0)) } ?? .null),
            ("budget", budget),
            ("total", counters(report.total)),
            ("keys", .object(report.perKey.sorted { $0.key < $1.key }.map { ($0.key, counters($0.value)) })),
        ]))
    }

    private func overrideLimit(_ body: JSONValue, _ field: String, teamLimit: Int?) throws -> Int? {
        guard let value = body[field], value != .null else { return nil }
        guard let n = value.intValue, n > 0, n <= LimitBounds.maximumRate else {
            throw GatewayError.invalidRequest("'\(field)' must be a positive integer of at most \(LimitBounds.maximumRate).", param: field)
        }
        if let teamLimit, n > teamLimit {
            throw GatewayError.invalidRequest("'\(field)' (\(n)) exceeds the team's limit (\(teamLimit)); key overrides can only tighten.", param: field)
        }
        return n
    }

    private func storeCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            switch error {
            case .conflict: throw GatewayError(status: 409, type: "invalid_request_error", code: "conflict", message: "The key already exists.")
            case .invalidArgument(let reason): throw GatewayError.invalidRequest(reason)
            default: throw GatewayError.stateStoreUnavailable("The key store is unavailable; try again shortly.")
            }
        }
    }

    static func json(_ record: APIKeyRecord) -> JSONValue {
        let formatter = ISO8601DateFormatter()
        return .object([
            ("id", .string(record.id)), ("object", .string("api_key")), ("team", .string(record.team)), ("name", .string(record.name)),
            ("created_at", .string(formatter.string(from: record.createdAt))),
            ("expires_at", record.expiresAt.map { .string(formatter.string(from: $0)) } ?? .null),
            ("revoked_at", record.revokedAt.map { .string(formatter.string(from: $0)) } ?? .null),
            ("rpm", record.rpm.map { .number(String($0)) } ?? .null), ("tpm", record.tpm.map { .number(String($0)) } ?? .null),
            ("models", record.models.map { .array($0.map(JSONValue.string)) } ?? .null),
        ])
    }
}

/// RFC 3339 timestamps, with or without fractional seconds.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
