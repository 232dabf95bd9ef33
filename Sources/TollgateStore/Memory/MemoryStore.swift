import Dispatch
import Foundation
import Logging
import Synchronization
import TollgateCore

/// The embedded store: all state in memory behind one lock, persisted under a data directory.
///
/// Admission runs the same `AdmissionEvaluator` the Redis script ports, under a `Mutex`, so it is
/// exactly as atomic. Durability: key changes are written (temp file + fsync + rename + directory
/// fsync) before the call returns, so no issued or revoked key is lost; counters (TATs, budgets,
/// usage) change on every request, so they are snapshotted the same way every `flushInterval` and at
/// `shutdown()` — a crash loses at most that interval of counting. A snapshot that cannot be written
/// (disk full) is retried every interval and reported (`countersPersistenceError`, and a log line at
/// most once a minute), never dropped in silence. No file ever holds a secret, only
/// SHA-256 hashes. File I/O runs on a private serial dispatch queue, never in the cooperative pool.
public final class MemoryStore: StateStore {
    public static let keysFileName = "keys.json"
    public static let countersFileName = "counters.json"

    private let state: Mutex<MemoryStoreState>
    private let dirty = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let dataDirectory: String?
    private let flushInterval: Duration
    private let ioQueue = DispatchQueue(label: "tollgate.memorystore.io")
    private let invalidations = InvalidationBroadcaster()
    private let logger: Logger?
    /// Why the last counters snapshot failed, and when that was last logged; nil after a success.
    private let persistence = Mutex<(error: String?, loggedAt: ContinuousClock.Instant?)>((nil, nil))

    /// Opens (or creates) the store. `dataDirectory` nil keeps everything in memory only (tests).
    /// Throws `.corrupt` if existing files cannot be read, rather than starting without the keys.
    public init(dataDirectory: String?, flushInterval: Duration = .seconds(1), logger: Logger? = nil) throws {
        self.dataDirectory = dataDirectory
        self.flushInterval = flushInterval
        self.logger = logger
        var initial = MemoryStoreState()
        if let dataDirectory {
            try AtomicFile.ensureDirectory(dataDirectory)
            if let data = try AtomicFile.read(dataDirectory + "/" + Self.keysFileName) {
                do {
                    initial.loadKeys(try JSONDecoder.store.decode(PersistedKeys.self, from: data).keys)
                } catch {
                    throw StoreError.corrupt("\(Self.keysFileName): \(error)")
                }
            }
            if let data = try AtomicFile.read(dataDirectory + "/" + Self.countersFileName) {
                do {
                    initial.counters = try JSONDecoder.store.decode(PersistedCounters.self, from: data).counters
                } catch {
                    throw StoreError.corrupt("\(Self.countersFileName): \(error)")
                }
            }
        }
        self.state = Mutex(initial)
        if dataDirectory != nil { scheduleFlush() }
    }

    // MARK: Keys

    public func insertKey(_ record: APIKeyRecord) async throws {
        try state.withLock { state in
            if state.keysByID[record.id] != nil { throw StoreError.conflict("a key with id \(record.id) exists") }
            if state.idByHash[record.hash] != nil { throw StoreError.conflict("a key with this hash exists") }
            state.keysByID[record.id] = record
            state.idByHash[record.hash] = record.id
        }
        do {
            try await persistKeys()
        } catch {
            // Not durable, so not issued: undo, the caller sees the failure and the secret is never shown.
            state.withLock { state in
                state.keysByID[record.id] = nil
                state.idByHash[record.hash] = nil
            }
            throw error
        }
    }

    public func key(hash: String) async throws -> APIKeyRecord? { lookup(hash: hash) }

    /// Synchronous lookup for the auth hot path: a dictionary read under the lock.
    public func lookup(hash: String) -> APIKeyRecord? {
        state.withLock { state in state.idByHash[hash].flatMap { state.keysByID[$0] } }
    }

    public func key(id: String) async throws -> APIKeyRecord? { state.withLock { $0.keysByID[id] } }

    public func listKeys(team: String?) async throws -> [APIKeyRecord] {
        let all = state.withLock { Array($0.keysByID.values) }
        return all.filter { team == nil || $0.team == team }.sorted {
            $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.id < $1.id
        }
    }

    public func revokeKey(id: String, at date: Date) async throws -> APIKeyRecord? {
        let (record, changed) = state.withLock { state -> (APIKeyRecord?, Bool) in
            guard var record = state.keysByID[id] else { return (nil, false) }
            if record.revokedAt != nil { return (record, false) }
            record.revokedAt = date
            state.keysByID[id] = record
            return (record, true)
        }
        guard let record else { return nil }
        // A revocation takes effect in memory even if the disk write fails: denying is the safe side.
        invalidations.publish(.key(hash: record.hash))
        if changed { try await persistKeys() }
        return record
    }

    // MARK: Limits and budgets

    public func admit(_ request: AdmissionRequest, now: Date) async throws -> AdmissionDecision {
        if let problem = request.validationError { throw StoreError.invalidArgument(problem) }
        let decision = state.withLock { state -> AdmissionDecision in
            let team = request.team
            let tats = state.counters.tats[team] ?? [:]
            let budgets = state.counters.budgets[team] ?? [:]
            let plan = AdmissionEvaluator.evaluate(
                request, now: now, tat: { tats[$0] ?? 0 }, consumption: { budgets[$0] ?? BudgetConsumption() })
            if !plan.tatWrites.isEmpty || !plan.budgetWrites.isEmpty {
                state.counters.tats[team, default: [:]].merge(plan.tatWrites) { _, new in new }
                state.counters.budgets[team, default: [:]].merge(plan.budgetWrites) { _, new in new }
            }
            return plan.decision
        }
        if case .admitted = decision { dirty.store(true, ordering: .relaxed) }
        return decision
    }

    public func settle(_ reservation: Reservation, actual: UsageAmount) async throws {
        apply(reservation, actual: actual, countUsage: true)
    }

    public func refund(_ reservation: Reservation) async throws {
        apply(reservation, actual: UsageAmount(promptTokens: 0, completionTokens: 0, costMicros: 0), countUsage: false)
    }

    /// In memory the correction is applied before this returns.
    public func startCorrection(_ reservation: Reservation, actual: UsageAmount?, completion: @escaping @Sendable (StoreError?) -> Void) {
        apply(reservation, actual: actual ?? UsageAmount(promptTokens: 0, completionTokens: 0, costMicros: 0), countUsage: actual != nil)
        completion(nil)
    }

    private func apply(_ reservation: Reservation, actual: UsageAmount, countUsage: Bool) {
        let team = reservation.team
        state.withLock { state in
            for limit in reservation.tokenLimits {
                // Only an existing bucket is corrected; an absent one is already full and stays so.
                guard let tat = state.counters.tats[team]?[limit.key] else { continue }
                let gcra = GCRA(limit: limit.limit, windowSeconds: limit.windowSeconds)
                state.counters.tats[team]?[limit.key] = gcra.adjust(tat: tat, byUnits: actual.totalTokens - limit.reservedTokens)
            }
            for budget in reservation.budgets {
                let current = state.counters.budgets[team]?[budget.bucket] ?? BudgetConsumption()
                state.counters.budgets[team, default: [:]][budget.bucket] = BudgetMath.settle(
                    current, reserved: budget.reserved,
                    actual: BudgetConsumption(tokens: Int64(actual.totalTokens), micros: actual.costMicros))
            }
            guard countUsage else { return }
            for period in BudgetPeriod.allCases {
                let periodKey = period.key(at: reservation.admittedAt)
                var usage = state.counters.usage[team]?[periodKey] ?? PeriodUsage()
                usage.total.add(actual)
                if let keyID = reservation.keyID { usage.perKey[keyID, default: UsageCounters()].add(actual) }
                state.counters.usage[team, default: [:]][periodKey] = usage
            }
        }
        dirty.store(true, ordering: .relaxed)
    }

    public func usage(team: String, period: BudgetPeriod, now: Date) async throws -> UsageReport {
        let periodKey = period.key(at: now)
        let usage = state.withLock { $0.counters.usage[team]?[periodKey] } ?? PeriodUsage()
        return UsageReport(
            team: team, period: period, periodKey: periodKey, periodStart: period.start(containing: now),
            periodEnd: period.end(containing: now), total: usage.total, perKey: usage.perKey)
    }

    /// Current consumption of one budget bucket (for tests and the status page).
    public func budgetConsumption(team: String, scope: String, period: BudgetPeriod, now: Date) -> BudgetConsumption {
        let bucket = AdmissionEvaluator.budgetBucket(scope: scope, periodKey: period.key(at: now))
        return state.withLock { $0.counters.budgets[team]?[bucket] } ?? BudgetConsumption()
    }

    // MARK: Lifecycle

    public func ping() async -> Bool { !stopped.load(ordering: .relaxed) }

    public func keyInvalidations() -> AsyncStream<KeyInvalidation> { invalidations.subscribe() }

    /// Writes the counters now (also done every `flushInterval` when something changed).
    public func flush() async throws {
        guard dataDirectory != nil else { return }
        try await onIOQueue { try self.writeCounters() }
    }

    public func shutdown() async {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        do {
            try await flush()
        } catch {
            logger?.error(
                "cannot write usage counters at shutdown; counting since the last snapshot is lost",
                metadata: ["store.data_directory": .string(dataDirectory ?? ""), "error": .string(String(describing: error))])
        }
        invalidations.finish()
    }

    // MARK: Persistence

    private func persistKeys() async throws {
        guard dataDirectory != nil else { return }
        try await onIOQueue { try self.writeKeys() }
    }

    /// Runs on `ioQueue`; snapshots at write time, so the last write always carries the latest keys.
    private func writeKeys() throws {
        guard let dataDirectory else { return }
        let records = state.withLock { Array($0.keysByID.values) }.sorted { $0.id < $1.id }
        let data = try JSONEncoder.store.encode(PersistedKeys(keys: records))
        try AtomicFile.write(data, to: dataDirectory + "/" + Self.keysFileName)
    }

    private func writeCounters() throws {
        guard let dataDirectory else { return }
        dirty.store(false, ordering: .relaxed)
        let now = Date()
        let counters = state.withLock { state -> MemoryCounters in
            state.counters.pruneTATs(nowMicros: AdmissionEvaluator.micros(now))
            state.counters.prunePeriods(now: now)
            return state.counters
        }
        do {
            let data = try JSONEncoder.store.encode(PersistedCounters(counters: counters))
            try AtomicFile.write(data, to: dataDirectory + "/" + Self.countersFileName)
        } catch {
            dirty.store(true, ordering: .relaxed)
            throw error
        }
    }

    /// Why counters could not be written to the data directory lately (nil when the last write worked).
    public var countersPersistenceError: String? { persistence.withLock { $0.error } }

    /// The periodic snapshot; a failure is kept for `countersPersistenceError` and logged once a minute.
    private func flushCounters() {
        do {
            try writeCounters()
            let recovered = persistence.withLock { state -> Bool in
                defer { state = (nil, nil) }
                return state.error != nil
            }
            if recovered { logger?.info("usage counters are being written to the data directory again") }
        } catch {
            let reason = String(describing: error)
            let now = ContinuousClock.now
            let shouldLog = persistence.withLock { state -> Bool in
                state.error = reason
                guard state.loggedAt.map({ now - $0 >= .seconds(60) }) ?? true else { return false }
                state.loggedAt = now
                return true
            }
            if shouldLog {
                logger?.error(
                    "cannot write usage counters to the data directory; retrying every interval, a restart now would lose counting since then",
                    metadata: ["store.data_directory": .string(dataDirectory ?? ""), "error": .string(reason)])
            }
        }
    }

    private func scheduleFlush() {
        let components = flushInterval.components
        let nanos = Int(components.seconds) * 1_000_000_000 + Int(components.attoseconds / 1_000_000_000)
        ioQueue.asyncAfter(deadline: .now() + .nanoseconds(max(10_000_000, nanos))) { [weak self] in
            guard let self, !self.stopped.load(ordering: .relaxed) else { return }
            if self.dirty.load(ordering: .relaxed) { self.flushCounters() }
            self.scheduleFlush()
        }
    }

    private func onIOQueue(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            ioQueue.async {
                do {
                    try work()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
