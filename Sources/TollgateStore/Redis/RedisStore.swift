import Foundation
import TollgateCore

/// The shared store for several gateway replicas, on Redis through hiredis.
///
/// Admission is one EVALSHA of `RedisScripts.admit` (all rate limits and budget reservations, atomic);
/// settle and refund are one EVALSHA each. Commands go through a small pool of pipelined connections
/// on their own threads; revocations are published on a channel and delivered to every replica's
/// `keyInvalidations()` by a subscriber on its own connection. Any Redis failure (down, timeout,
/// wrong type, queue full) is thrown as `StoreError.unavailable` / `.overloaded`; the store reconnects
/// by itself with backoff. It never decides fail-open or fail-closed: the caller does.
public final class RedisStore: StateStore {
    public let configuration: RedisStoreConfiguration
    let pool: RedisPool
    private let subscriber: RedisSubscriber
    let keys: RedisKeys
    private let invalidations = InvalidationBroadcaster()

    /// Starts the connection threads; connecting is lazy and retried, so this never blocks or fails
    /// because Redis is down (use `ping()` to check readiness).
    public init(configuration: RedisStoreConfiguration) {
        self.configuration = configuration
        self.keys = RedisKeys(prefix: configuration.keyPrefix)
        self.pool = RedisPool(
            url: configuration.url, size: configuration.poolSize, options: configuration.connection,
            greeting: RedisScripts.all.map { RedisCommand(["SCRIPT", "LOAD", $0.source]) }, logger: configuration.logger)
        let broadcaster = invalidations
        self.subscriber = RedisSubscriber(
            url: configuration.url, channel: keys.invalidationChannel, options: configuration.connection,
            deliver: { broadcaster.publish($0) })
    }

    /// Stops the threads if `shutdown()` was never called (they hold the workers, not the store).
    deinit {
        pool.stop()
        subscriber.stop()
    }

    /// Whether the revocation subscription is live (another readiness signal).
    public var isSubscribed: Bool { subscriber.isSubscribed }

    // MARK: Keys

    public func insertKey(_ record: APIKeyRecord) async throws {
        let json = String(decoding: try JSONEncoder.store.encode(record), as: UTF8.self)
        let reply = try await pool.execute(
            RedisScripts.insertKey.command(
                keys: [keys.keyRecord(hash: record.hash), keys.keyID(record.id), keys.teamKeys(record.team), keys.allKeys],
                arguments: [json, record.id, record.hash]))
        guard let inserted = reply.int else { throw StoreError.unavailable("unexpected reply to key insert") }
        if inserted == 0 { throw StoreError.conflict("a key with this id or hash exists") }
    }

    public func key(hash: String) async throws -> APIKeyRecord? {
        let reply = try await pool.execute(RedisCommand(["HMGET", keys.keyRecord(hash: hash), "json", "revoked_at"]))
        return try decodeRecord(reply)
    }

    public func key(id: String) async throws -> APIKeyRecord? {
        let reply = try await pool.execute(
            RedisScripts.keyByID.command(keys: [keys.keyID(id)], arguments: [keys.keyRecordPrefix]))
        return try decodeRecord(reply)
    }

    public func listKeys(team: String?) async throws -> [APIKeyRecord] {
        let set = team.map { keys.teamKeys($0) } ?? keys.allKeys
        let reply = try await pool.execute(
            RedisScripts.listKeys.command(keys: [set], arguments: [keys.keyIDPrefix, keys.keyRecordPrefix]))
        guard let items = reply.elements else { throw StoreError.unavailable("unexpected reply to key list") }
        var records: [APIKeyRecord] = []
        var index = 0
        while index + 1 < items.count {
            if let record = try decodeRecord(.array([items[index], items[index + 1]])) { records.append(record) }
            index += 2
        }
        return records.sorted { $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.id < $1.id }
    }

    public func revokeKey(id: String, at date: Date) async throws -> APIKeyRecord? {
        let reply = try await pool.execute(
            RedisScripts.revokeKey.command(
                keys: [keys.keyID(id)],
                arguments: [keys.keyRecordPrefix, String(date.timeIntervalSinceReferenceDate), keys.invalidationChannel]))
        guard let record = try decodeRecord(reply) else { return nil }
        // This replica drops it at once; the others hear it through the channel.
        invalidations.publish(.key(hash: record.hash))
        return record
    }

    /// Decodes `{json, revoked_at}` (nil reply or missing json means no such key).
    private func decodeRecord(_ reply: RedisValue) throws -> APIKeyRecord? {
        if reply.isNull { return nil }
        guard let parts = reply.elements, parts.count == 2 else {
            throw StoreError.unavailable("unexpected reply for a key record")
        }
        guard case .string(let json) = parts[0] else { return nil }
        var record: APIKeyRecord
        do {
            record = try JSONDecoder.store.decode(APIKeyRecord.self, from: Data(json))
        } catch {
            throw StoreError.unavailable("a key record in Redis is not valid JSON")
        }
        if let revoked = parts[1].text, let seconds = Double(revoked) {
            record.revokedAt = Date(timeIntervalSinceReferenceDate: seconds)
        }
        return record
    }

    // MARK: Limits and budgets

    public var admitsRemotely: Bool { true }
    public var isKnownUnreachable: Bool { !pool.isReachable }

    public func admit(_ request: AdmissionRequest, now: Date) async throws -> AdmissionDecision {
        if let problem = request.validationError { throw StoreError.invalidArgument(problem) }
        let periodKeys = request.budgets.map { $0.period.key(at: now) }
        if request.limits.isEmpty && request.budgets.isEmpty {
            // Nothing to check or reserve: no round trip (a team without limits or budgets).
            return .admitted(Admission(reservation: Reservation(admitting: request, periodKeys: [], at: now), limits: []))
        }
        var numbers: [Double] = []
        numbers.reserveCapacity(4 + 5 * request.budgets.count + 4 * request.limits.count)
        numbers += [clockArgument(now), Double(request.limits.count), Double(request.budgets.count), Double(request.leaseMultiplier)]
        for rule in request.budgets {
            numbers += [
                Double(rule.tokenLimit ?? -1), Double(rule.microsLimit ?? -1), Double(rule.reserveTokens),
                Double(rule.reserveMicros), Double(rule.period.retentionSeconds ?? -1),
            ]
        }
        for rule in request.limits {
            let gcra = rule.gcra
            numbers += [
                Double(gcra.emissionIntervalMicros), Double(rule.limit), Double(gcra.normalizedCost(rule.cost)),
                Double(gcra.toleranceMicros),
            ]
        }
        var arguments = RESPWriter(capacity: 512)
        arguments.append(1 + request.budgets.count)
        arguments.append(keys.rateLimits(team: request.team))
        for (rule, periodKey) in zip(request.budgets, periodKeys) {
            arguments.append(keys.budget(team: request.team, bucket: AdmissionEvaluator.budgetBucket(scope: rule.scope, periodKey: periodKey)))
        }
        arguments.append(packed: numbers)
        for rule in request.limits { arguments.append(keys.rateLimitField(rule: rule.key)) }
        let reply = try await pool.execute(RedisCommand(evaluating: RedisScripts.admit, arguments: arguments))
        return try decision(from: reply, request: request, periodKeys: periodKeys, now: now)
    }

    private func decision(from reply: RedisValue, request: AdmissionRequest, periodKeys: [String], now: Date) throws -> AdmissionDecision {
        guard let values = reply.elements?.map(\.int), values.count >= 4, let status = values[0], let index = values[1],
            let dimension = values[2]
        else { throw StoreError.unavailable("unexpected reply to admit") }
        if status == 2 {
            guard index >= 1, Int(index) <= request.budgets.count else { throw StoreError.unavailable("bad budget index") }
            let rule = request.budgets[Int(index) - 1]
            return .refused(
                .budgetExhausted(
                    scope: rule.scope, period: rule.period, dimension: dimension == 2 ? .usd : .tokens,
                    resetsAt: rule.period.end(containing: now)))
        }
        guard values.count == 4 + 3 * request.limits.count else { throw StoreError.unavailable("unexpected admit reply size") }
        // Admitted: index is how many requests' worth (more than 1 for a lease).
        let multiple = status == 1 ? Int(index) : 1
        guard multiple >= 1, multiple <= request.leaseMultiplier else { throw StoreError.unavailable("bad lease multiple") }
        var statuses: [LimitStatus] = []
        for (offset, rule) in request.limits.enumerated() {
            let base = 4 + offset * 3
            statuses.append(
                LimitStatus(
                    key: rule.key, kind: rule.kind, limit: rule.limit, remaining: Int(values[base] ?? 0),
                    resetAfterSeconds: Double(values[base + 1] ?? 0) / 1_000_000))
        }
        if status == 0 {
            guard index >= 1, Int(index) <= request.limits.count else { throw StoreError.unavailable("bad rule index") }
            let rule = request.limits[Int(index) - 1]
            let retry = values[4 + (Int(index) - 1) * 3 + 2] ?? 0
            return .refused(
                .rateLimited(rule: rule.key, kind: rule.kind, retryAfterSeconds: Double(retry) / 1_000_000, limits: statuses))
        }
        let admitted = multiple > 1 ? request.scaled(by: multiple) : request
        let reservation = Reservation(admitting: admitted, periodKeys: periodKeys, at: now)
        return .admitted(Admission(reservation: reservation, limits: statuses, leasedMultiple: multiple))
    }

    public func settle(_ reservation: Reservation, actual: UsageAmount) async throws {
        try await apply(reservation, actual: actual, countUsage: true)
    }

    public func refund(_ reservation: Reservation) async throws {
        try await apply(reservation, actual: UsageAmount(promptTokens: 0, completionTokens: 0, costMicros: 0), countUsage: false)
    }

    /// Writes the settle script call to the socket before returning (Redis runs commands in arrival
    /// order, so a later admit sees it) and reports the reply when it comes.
    public func startCorrection(_ reservation: Reservation, actual: UsageAmount?, completion: @escaping @Sendable (StoreError?) -> Void) {
        let command = correction(reservation, actual: actual ?? UsageAmount(promptTokens: 0, completionTokens: 0, costMicros: 0), countUsage: actual != nil)
        pool.send(command) { result in
            switch result {
            case .success: completion(nil)
            case .failure(let error): completion(error)
            }
        }
    }

    private func apply(_ reservation: Reservation, actual: UsageAmount, countUsage: Bool) async throws {
        _ = try await pool.execute(correction(reservation, actual: actual, countUsage: countUsage))
    }

    private func correction(_ reservation: Reservation, actual: UsageAmount, countUsage: Bool) -> RedisCommand {
        let team = reservation.team
        var numbers: [Double] = []
        numbers.reserveCapacity(3 + 2 * reservation.tokenLimits.count + 3 * reservation.budgets.count + 6)
        numbers += [Double(reservation.tokenLimits.count), Double(reservation.budgets.count), countUsage ? 1 : 0]
        for limit in reservation.tokenLimits {
            let gcra = GCRA(limit: limit.limit, windowSeconds: limit.windowSeconds)
            let bound = max(1, limit.limit) * 10
            let delta = min(max(actual.totalTokens - limit.reservedTokens, -bound), bound)
            numbers += [Double(gcra.emissionIntervalMicros), Double(delta)]
        }
        for budget in reservation.budgets {
            numbers += [
                Double(Int64(actual.totalTokens) - budget.reserved.tokens), Double(actual.costMicros - budget.reserved.micros),
                Double(budget.period.retentionSeconds ?? -1),
            ]
        }
        var arguments = RESPWriter(capacity: 512)
        arguments.append(1 + reservation.budgets.count + (countUsage ? BudgetPeriod.allCases.count : 0))
        arguments.append(keys.rateLimits(team: team))
        for budget in reservation.budgets { arguments.append(keys.budget(team: team, bucket: budget.bucket)) }
        if countUsage {
            numbers += [Double(actual.promptTokens), Double(actual.completionTokens), Double(actual.costMicros)]
            for period in BudgetPeriod.allCases {
                arguments.append(keys.usage(team: team, periodKey: period.key(at: reservation.admittedAt)))
                numbers.append(Double(period.retentionSeconds ?? -1))
            }
        }
        arguments.append(packed: numbers)
        for limit in reservation.tokenLimits { arguments.append(keys.rateLimitField(rule: limit.key)) }
        arguments.append(reservation.keyID ?? "")
        return RedisCommand(evaluating: RedisScripts.settle, arguments: arguments)
    }

    public func usage(team: String, period: BudgetPeriod, now: Date) async throws -> UsageReport {
        let periodKey = period.key(at: now)
        let reply = try await pool.execute(RedisCommand(["HGETALL", keys.usage(team: team, periodKey: periodKey)]))
        guard let items = reply.elements else { throw StoreError.unavailable("unexpected reply to usage") }
        var total = UsageCounters()
        var perKey: [String: UsageCounters] = [:]
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let field = items[index].text, case .string(let value) = items[index + 1] else { continue }
            if let packed = PackedUsage(value), field == "n" {
                packed.add(to: &total)
            } else if let packed = PackedUsage(value), field.hasPrefix("k:"), !field.dropFirst(2).contains(":") {
                packed.add(to: &perKey[String(field.dropFirst(2)), default: UsageCounters()])
            } else if let legacy = Int64(String(decoding: value, as: UTF8.self)) {
                // Decimal fields written before usage was packed (`requests`, `k:<id>:requests`, ...).
                let parts = field.split(separator: ":", omittingEmptySubsequences: false)
                if parts.count == 3, parts[0] == "k" {
                    Self.add(legacy, field: parts[2], to: &perKey[String(parts[1]), default: UsageCounters()])
                } else if parts.count == 1 {
                    Self.add(legacy, field: parts[0], to: &total)
                }
            }
        }
        return UsageReport(
            team: team, period: period, periodKey: periodKey, periodStart: period.start(containing: now),
            periodEnd: period.end(containing: now), total: total, perKey: perKey)
    }

    private static func add(_ value: Int64, field: Substring, to counters: inout UsageCounters) {
        switch field {
        case "requests": counters.requests += value
        case "prompt_tokens": counters.promptTokens += value
        case "completion_tokens": counters.completionTokens += value
        case "cost_micros": counters.costMicros += value
        default: break
        }
    }

    /// Current consumption of one budget bucket (tests and status).
    public func budgetConsumption(team: String, scope: String, period: BudgetPeriod, now: Date) async throws -> BudgetConsumption {
        let bucket = AdmissionEvaluator.budgetBucket(scope: scope, periodKey: period.key(at: now))
        let reply = try await pool.execute(RedisCommand(["HMGET", keys.budget(team: team, bucket: bucket), "t", "u"]))
        guard let parts = reply.elements, parts.count == 2 else { throw StoreError.unavailable("unexpected reply") }
        return BudgetConsumption(tokens: parts[0].int ?? 0, micros: parts[1].int ?? 0)
    }

    private func clockArgument(_ now: Date) -> Double {
        configuration.clock == .server ? -1 : Double(AdmissionEvaluator.micros(now))
    }

    // MARK: Lifecycle

    public func ping() async -> Bool {
        guard let reply = try? await pool.execute(RedisCommand(["PING"])) else { return false }
        return reply.text == "PONG"
    }

    public func keyInvalidations() -> AsyncStream<KeyInvalidation> { invalidations.subscribe() }

    public func shutdown() async {
        pool.stop()
        subscriber.stop()
        invalidations.finish()
    }
}
