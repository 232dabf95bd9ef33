import Foundation
import Testing
import TollgateCore
import TollgateStore

struct MemoryStoreTests {
    @Test func hundredConcurrentAdmitsAgainstRPM20AdmitExactly20() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let admitted = try await StoreTestSupport.concurrentAdmits([store], count: 100, request: StoreTestSupport.rpmRequest())
        #expect(admitted == 20)
    }

    @Test func aStartedCorrectionIsAppliedBeforeTheNextAdmission() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        #expect(try await StoreTestSupport.startedCorrectionIsSeenByTheNextAdmission(store))
    }

    @Test func budgetUnderThirtyConcurrentReservationsOvershootsByAtMostOne() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let request = StoreTestSupport.budgetRequest(budget: 1000, reserve: 150)
        let now = Date()
        let admitted = try await StoreTestSupport.concurrentAdmits([store], count: 30, request: request, now: { now })
        let consumed = store.budgetConsumption(team: "research", scope: "team", period: .monthly, now: now)
        #expect(admitted == 7)
        #expect(consumed.tokens == Int64(admitted) * 150)
        #expect(consumed.tokens - 1000 < 150)
    }

    @Test func settleCorrectsBudgetAndTokenLimitAndCountsUsagePerKey() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let now = Date()
        let request = StoreTestSupport.budgetRequest(budget: 10_000, reserve: 500)
        guard case .admitted(let admission) = try await store.admit(request, now: now) else {
            Issue.record("expected admission")
            return
        }
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 80, completionTokens: 20, costMicros: 33))
        #expect(store.budgetConsumption(team: "research", scope: "team", period: .monthly, now: now).tokens == 100)
        let report = try await store.usage(team: "research", period: .monthly, now: now)
        #expect(report.total == UsageCounters(requests: 1, promptTokens: 80, completionTokens: 20, costMicros: 33))
        #expect(report.perKey["key_test"] == report.total)
        guard case .admitted(let next) = try await store.admit(request, now: now) else {
            Issue.record("expected admission")
            return
        }
        // The tpm bucket holds 100 settled + 500 reserved tokens.
        #expect(next.limits.tightest(.tokens)?.remaining == 1_000_000 - 600)
        try await store.refund(next.reservation)
        #expect(store.budgetConsumption(team: "research", scope: "team", period: .monthly, now: now).tokens == 100)
        #expect(try await store.usage(team: "research", period: .daily, now: now).total.requests == 1)
    }

    @Test func keysRevocationsAndCountersSurviveReopen() async throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, kept) = try StoreTestSupport.record()
        let (_, revoked) = try StoreTestSupport.record(team: "ops")
        let now = Date()
        do {
            let store = try MemoryStore(dataDirectory: directory)
            try await store.insertKey(kept)
            try await store.insertKey(revoked)
            _ = try await store.revokeKey(id: revoked.id, at: now)
            guard case .admitted(let admission) = try await store.admit(StoreTestSupport.budgetRequest(), now: now) else {
                Issue.record("expected admission")
                return
            }
            try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 5, completionTokens: 7, costMicros: 9))
            await store.shutdown()
        }
        let reopened = try MemoryStore(dataDirectory: directory)
        #expect(try await reopened.key(hash: kept.hash) == kept)
        #expect(try await reopened.key(id: revoked.id)?.revokedAt == now)
        #expect(try await reopened.listKeys(team: "ops").map(\.id) == [revoked.id])
        #expect(try await reopened.usage(team: "research", period: .total, now: now).total.completionTokens == 7)
        #expect(reopened.budgetConsumption(team: "research", scope: "team", period: .monthly, now: now).tokens == 12)
        await reopened.shutdown()
    }

    /// A data directory that refuses the counters snapshot (here `counters.json` is a directory, as
    /// good as a full disk for `rename`) is reported, retried, and cleared once writes work again.
    @Test func aCountersSnapshotThatCannotBeWrittenIsReportedAndRetried() async throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try MemoryStore(dataDirectory: directory, flushInterval: .milliseconds(20))
        let blocker = directory + "/" + MemoryStore.countersFileName
        try FileManager.default.createDirectory(atPath: blocker + "/occupied", withIntermediateDirectories: true)
        #expect(StoreTestSupport.isAdmitted(try await store.admit(StoreTestSupport.rpmRequest(), now: Date())))
        for _ in 0..<100 where store.countersPersistenceError == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.countersPersistenceError != nil)
        try FileManager.default.removeItem(atPath: blocker)
        for _ in 0..<100 where store.countersPersistenceError != nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.countersPersistenceError == nil)
        #expect(FileManager.default.fileExists(atPath: blocker), "the retried snapshot reached the disk")
        await store.shutdown()
    }

    @Test func keyWritesAreDurableBeforeReturningWithoutShutdown() async throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, record) = try StoreTestSupport.record()
        let store = try MemoryStore(dataDirectory: directory, flushInterval: .seconds(3600))
        try await store.insertKey(record)
        // No shutdown: a second process opening the directory (as after a crash) already sees the key.
        let other = try MemoryStore(dataDirectory: directory)
        #expect(try await other.key(id: record.id) == record)
        await store.shutdown()
        await other.shutdown()
    }

    @Test func noPlaintextSecretReachesTheDataDirectory() async throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try MemoryStore(dataDirectory: directory)
        var secrets: [String] = []
        for index in 0..<20 {
            let (secret, record) = try StoreTestSupport.record(name: "key \(index)")
            secrets.append(secret.plaintext)
            try await store.insertKey(record)
        }
        _ = try await store.revokeKey(id: try await store.listKeys(team: nil)[0].id, at: Date())
        await store.shutdown()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.contains(MemoryStore.keysFileName))
        for file in files {
            let content = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            #expect(!content.contains("sk-tg-"), "\(file) contains a key prefix")
            for secret in secrets { #expect(!content.contains(secret.dropFirst(6)), "\(file) contains a secret") }
        }
    }

    @Test func duplicateIDsOrHashesAreConflicts() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let (_, record) = try StoreTestSupport.record()
        try await store.insertKey(record)
        await #expect(throws: StoreError.self) { try await store.insertKey(record) }
        var sameHash = record
        sameHash.id = "key_other0000000"
        await #expect(throws: StoreError.self) { try await store.insertKey(sameHash) }
    }

    @Test func revocationIsAnnouncedToSubscribersAndIdempotent() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let (_, record) = try StoreTestSupport.record()
        try await store.insertKey(record)
        let stream = store.keyInvalidations()
        let first = Date()
        _ = try await store.revokeKey(id: record.id, at: first)
        let again = try await store.revokeKey(id: record.id, at: first.addingTimeInterval(60))
        #expect(again?.revokedAt == first)
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == .key(hash: record.hash))
        #expect(try await store.revokeKey(id: "key_missing00000", at: first) == nil)
    }

    @Test func corruptKeyFileRefusesToOpen() throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/" + MemoryStore.keysFileName))
        #expect(throws: StoreError.self) { try MemoryStore(dataDirectory: directory) }
    }

    @Test func invalidRequestsAreRejectedNotCrashing() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let bad = AdmissionRequest(team: "", keyID: nil, limits: [], budgets: [])
        await #expect(throws: StoreError.self) { try await store.admit(bad, now: Date()) }
    }
}

struct MemoryStoreRetentionTests {
    @Test func oldDailyCountersArePrunedWhenPersisted() async throws {
        let directory = StoreTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = Date()
        let old = now.addingTimeInterval(-10 * 86_400)
        let store = try MemoryStore(dataDirectory: directory)
        for when in [old, now] {
            guard case .admitted(let admission) = try await store.admit(StoreTestSupport.rpmRequest(limit: 100), now: when) else {
                Issue.record("expected admission")
                return
            }
            try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 1, completionTokens: 1, costMicros: 1))
        }
        #expect(try await store.usage(team: "research", period: .daily, now: old).total.requests == 1)
        try await store.flush()
        #expect(try await store.usage(team: "research", period: .daily, now: old).total.requests == 0)
        #expect(try await store.usage(team: "research", period: .daily, now: now).total.requests == 1)
        #expect(try await store.usage(team: "research", period: .total, now: now).total.requests == 2)
        await store.shutdown()
    }
}
