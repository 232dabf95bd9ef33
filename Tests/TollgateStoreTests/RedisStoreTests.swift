import Foundation
import Testing
import TollgateCore
import TollgateStore

/// Against a real `redis-server` started per test (see `RedisServerFixture`).
@Suite(.serialized, .enabled(if: RedisServerFixture.shouldRun, "redis-server is not installed; Redis tests skipped (they fail when CI is set)"))
struct RedisStoreTests {
    func makeStore(_ server: RedisServerFixture, clock: RedisClock = .server, options: RedisConnectionOptions = RedisConnectionOptions()) throws -> RedisStore {
        var configuration = try RedisStoreConfiguration(url: server.url)
        configuration.clock = clock
        configuration.connection = options
        return RedisStore(configuration: configuration)
    }

    @Test func hundredConcurrentAdmitsAgainstRPM20AdmitExactly20() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        let admitted = try await StoreTestSupport.concurrentAdmits([store], count: 100, request: StoreTestSupport.rpmRequest())
        #expect(admitted == 20)
        await store.shutdown()
    }

    @Test func aStartedCorrectionIsOrderedBeforeTheNextAdmission() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        for round in 0..<20 {
            _ = try server.command(["FLUSHALL"])
            #expect(try await StoreTestSupport.startedCorrectionIsSeenByTheNextAdmission(store), "round \(round)")
        }
        await store.shutdown()
    }

    @Test func twoReplicasSharingRedisAdmitExactly20Together() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let first = try makeStore(server)
        let second = try makeStore(server)
        let admitted = try await StoreTestSupport.concurrentAdmits([first, second], count: 100, request: StoreTestSupport.rpmRequest())
        #expect(admitted == 20)
        await first.shutdown()
        await second.shutdown()
    }

    @Test func replicasSeeEachOthersKeysAndRevocationsWithinOneSecond() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let writer = try makeStore(server)
        let reader = try makeStore(server)
        let (_, record) = try StoreTestSupport.record(team: "research")
        try await writer.insertKey(record)
        #expect(try await reader.key(hash: record.hash) == record)
        #expect(try await reader.key(id: record.id) == record)
        #expect(try await reader.listKeys(team: "research").map(\.id) == [record.id])
        #expect(try await reader.listKeys(team: "other").isEmpty)

        // Wait until the reader's subscription is live before revoking.
        let subscribeDeadline = Date().addingTimeInterval(5)
        while !reader.isSubscribed && Date() < subscribeDeadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(reader.isSubscribed)
        let stream = reader.keyInvalidations()
        let revokedAt = Date()
        let clock = ContinuousClock()
        let started = clock.now
        let revoked = try await writer.revokeKey(id: record.id, at: revokedAt)
        #expect(revoked?.revokedAt == revokedAt)
        let received = try await withThrowingTaskGroup(of: KeyInvalidation?.self) { group in
            group.addTask {
                for await invalidation in stream where invalidation == .key(hash: record.hash) { return invalidation }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let elapsed = clock.now - started
        #expect(received == .key(hash: record.hash))
        #expect(elapsed < .seconds(1))
        print("revocation reached the other replica in \(elapsed)")
        #expect(try await reader.key(hash: record.hash)?.revokedAt == revokedAt)
        // Revoking again keeps the first timestamp.
        #expect(try await reader.revokeKey(id: record.id, at: revokedAt.addingTimeInterval(5))?.revokedAt == revokedAt)
        await #expect(throws: StoreError.self) { try await reader.insertKey(record) }
        await writer.shutdown()
        await reader.shutdown()
    }

    @Test func budgetUnderThirtyConcurrentReservationsOvershootsByAtMostOne() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        let now = Date()
        let admitted = try await StoreTestSupport.concurrentAdmits(
            [store], count: 30, request: StoreTestSupport.budgetRequest(budget: 1000, reserve: 150), now: { now })
        let consumed = try await store.budgetConsumption(team: "research", scope: "team", period: .monthly, now: now)
        #expect(admitted == 7)
        #expect(consumed.tokens == Int64(admitted) * 150)
        #expect(consumed.tokens - 1000 < 150)
        await store.shutdown()
    }

    @Test func settleRefundAndUsageMatchTheEmbeddedStore() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let redis = try makeStore(server, clock: .caller)
        let memory = try MemoryStore(dataDirectory: nil)
        let start = ISO8601DateFormatter().date(from: "2026-11-30T23:59:58Z")!
        var redisLog: [AdmissionDecision] = []
        var memoryLog: [AdmissionDecision] = []
        let request = AdmissionRequest(
            team: "research", keyID: "key_abc",
            limits: [
                .requestsPerMinute(key: "team:rpm", limit: 3), .requestsPerMinute(key: "key:key_abc:rpm", limit: 7),
                .tokensPerMinute(key: "team:tpm", limit: 1000, estimatedTokens: 300),
            ],
            budgets: [
                BudgetRule(scope: "team", period: .monthly, tokenLimit: 900, microsLimit: 5000, reserveTokens: 300, reserveMicros: 100),
                BudgetRule(scope: "key:key_abc", period: .daily, tokenLimit: nil, microsLimit: 10_000, reserveTokens: 300, reserveMicros: 100),
            ])
        // Same scripted sequence on both stores, across the month boundary at 00:00:00.
        for step in 0..<12 {
            let now = start.addingTimeInterval(Double(step) * 0.5)
            for (store, log) in [(redis as any StateStore, 0), (memory, 1)] {
                let decision = try await store.admit(request, now: now)
                if case .admitted(let admission) = decision, step % 3 == 0 {
                    try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 50, completionTokens: 25, costMicros: 40))
                } else if case .admitted(let admission) = decision, step % 3 == 1 {
                    try await store.refund(admission.reservation)
                }
                if log == 0 { redisLog.append(decision) } else { memoryLog.append(decision) }
            }
        }
        #expect(redisLog == memoryLog)
        #expect(redisLog.contains { StoreTestSupport.isAdmitted($0) })
        #expect(redisLog.contains { !StoreTestSupport.isAdmitted($0) })
        for period in BudgetPeriod.allCases {
            let fromRedis = try await redis.usage(team: "research", period: period, now: start)
            let fromMemory = try await memory.usage(team: "research", period: period, now: start)
            #expect(fromRedis == fromMemory)
        }
        #expect(try await redis.usage(team: "research", period: .total, now: start).total.requests > 0)
        await redis.shutdown()
    }

    @Test func leaseGrantsMatchTheEmbeddedStoreAndStopAtHalfOfEveryLimit() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let redis = try makeStore(server, clock: .caller)
        let memory = try MemoryStore(dataDirectory: nil)
        let start = ISO8601DateFormatter().date(from: "2026-11-26T12:00:00Z")!
        let request = AdmissionRequest(
            team: "research", keyID: "key_abc",
            limits: [.requestsPerMinute(key: "team:rpm", limit: 100), .tokensPerMinute(key: "team:tpm", limit: 10_000, estimatedTokens: 40)],
            budgets: [BudgetRule(scope: "team", period: .monthly, tokenLimit: 5_000, microsLimit: 100_000, reserveTokens: 40, reserveMicros: 700)],
            leaseMultiplier: 10)
        var redisLog: [AdmissionDecision] = []
        var memoryLog: [AdmissionDecision] = []
        for step in 0..<14 {
            let now = start.addingTimeInterval(Double(step) * 0.01)
            redisLog.append(try await redis.admit(request, now: now))
            memoryLog.append(try await memory.admit(request, now: now))
        }
        #expect(redisLog == memoryLog)
        let multiples = redisLog.map { decision -> Int in
            if case .admitted(let admission) = decision { return admission.leasedMultiple }
            return 0
        }
        // rpm 100 is the tightest: five leases of ten reach half of it, then one request at a time.
        #expect(multiples == [10, 10, 10, 10, 10] + Array(repeating: 1, count: 9))
        // Giving a lease back restores exactly what it charged, in both stores.
        guard case .admitted(let lease) = redisLog[0] else { return }
        #expect(lease.reservation.budgets.first?.reserved == BudgetConsumption(tokens: 400, micros: 7_000))
        try await redis.refund(lease.reservation)
        try await memory.refund(lease.reservation)
        let fromRedis = try await redis.budgetConsumption(team: "research", scope: "team", period: .monthly, now: start)
        #expect(fromRedis == memory.budgetConsumption(team: "research", scope: "team", period: .monthly, now: start))
        #expect(fromRedis == BudgetConsumption(tokens: 4 * 400 + 9 * 40, micros: 4 * 7_000 + 9 * 700))
        await redis.shutdown()
    }

    @Test func scriptFlushIsRecoveredFromNOSCRIPT() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        #expect(StoreTestSupport.isAdmitted(try await store.admit(StoreTestSupport.rpmRequest(), now: Date())))
        #expect(try server.command(["SCRIPT", "FLUSH"]) == "OK")
        #expect(StoreTestSupport.isAdmitted(try await store.admit(StoreTestSupport.rpmRequest(), now: Date())))
        guard case .admitted(let admission) = try await store.admit(StoreTestSupport.budgetRequest(), now: Date()) else {
            Issue.record("expected admission")
            return
        }
        #expect(try server.command(["SCRIPT", "FLUSH"]) == "OK")
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 1, completionTokens: 1, costMicros: 1))
        #expect(try await store.usage(team: "research", period: .monthly, now: Date()).total.requests == 1)
        await store.shutdown()
    }

    @Test func killedRedisSurfacesUnavailableAndRecoversWhenRestarted() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        let request = StoreTestSupport.rpmRequest(limit: 1000)
        #expect(StoreTestSupport.isAdmitted(try await store.admit(request, now: Date())))
        let subscribeDeadline = Date().addingTimeInterval(5)
        while !store.isSubscribed && Date() < subscribeDeadline { try await Task.sleep(for: .milliseconds(10)) }
        let invalidations = store.keyInvalidations()
        server.kill()
        do {
            _ = try await store.admit(request, now: Date())
            Issue.record("admit succeeded with Redis down")
        } catch let error as StoreError {
            #expect(error.isUnavailability)
        }
        #expect(await store.ping() == false)
        await #expect(throws: StoreError.self) { try await store.key(hash: "abc") }
        try server.start()
        let deadline = Date().addingTimeInterval(10)
        var recovered = false
        while Date() < deadline && !recovered {
            if let decision = try? await store.admit(request, now: Date()) { recovered = StoreTestSupport.isAdmitted(decision) }
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered)
        #expect(await store.ping())
        // Revocations published while the subscriber was down are lost, so it asks caches to drop all.
        let sawFlush = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await invalidation in invalidations where invalidation == .all { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(sawFlush)
        await store.shutdown()
    }

    @Test func fullQueueIsRejectedAsOverloaded() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let options = RedisConnectionOptions(commandTimeout: .milliseconds(500), queueLimit: 2)
        var configuration = try RedisStoreConfiguration(url: server.url)
        configuration.poolSize = 1
        configuration.connection = options
        let store = RedisStore(configuration: configuration)
        #expect(await store.ping())
        // A frozen server (SIGSTOP) answers nothing, so the one connection's queue fills up.
        server.pause()
        let outcomes = await withTaskGroup(of: StoreError?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await store.admit(StoreTestSupport.rpmRequest(limit: 1000), now: Date())
                        return nil
                    } catch let error as StoreError {
                        return error
                    } catch {
                        return .unavailable("\(error)")
                    }
                }
            }
            var errors: [StoreError?] = []
            for await outcome in group { errors.append(outcome) }
            return errors
        }
        server.resume()
        #expect(outcomes.contains { if case .overloaded = $0 { return true } else { return false } })
        #expect(outcomes.allSatisfy { $0?.isUnavailability ?? true })
        await store.shutdown()
    }

    @Test func authenticatesAndSelectsTheDatabaseFromTheURL() async throws {
        let server = try RedisServerFixture(password: "s3cret")
        defer { server.stop() }
        let wrong = RedisStore(configuration: try RedisStoreConfiguration(url: "redis://:nope@127.0.0.1:\(server.port)/3"))
        #expect(await wrong.ping() == false)
        await #expect(throws: StoreError.self) { try await wrong.admit(StoreTestSupport.rpmRequest(), now: Date()) }
        await wrong.shutdown()
        let store = RedisStore(configuration: try RedisStoreConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3"))
        #expect(await store.ping())
        #expect(StoreTestSupport.isAdmitted(try await store.admit(StoreTestSupport.rpmRequest(), now: Date())))
        #expect(try server.command(["DBSIZE"], database: 3) == "1")
        #expect(try server.command(["DBSIZE"], database: 0) == "0")
        await store.shutdown()
    }

    @Test func servesTheSameStateOverTheUnixSocket() async throws {
        let server = try RedisServerFixture(password: "s3cret")
        defer { server.stop() }
        let wrong = RedisStore(configuration: try RedisStoreConfiguration(url: "unix://:nope@\(server.socketPath)?db=3"))
        #expect(await wrong.ping() == false)
        await wrong.shutdown()
        let store = RedisStore(configuration: try RedisStoreConfiguration(url: "unix://:s3cret@\(server.socketPath)?db=3"))
        #expect(await store.ping())
        guard case .admitted(let admission) = try await store.admit(StoreTestSupport.rpmRequest(), now: Date()) else {
            Issue.record("expected admission over the socket")
            return
        }
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 3, completionTokens: 4, costMicros: 0))
        #expect(try server.command(["DBSIZE"], database: 3) != "0")
        #expect(try server.command(["DBSIZE"], database: 0) == "0")
        // The TCP URL of the same server sees what the socket wrote.
        let tcp = RedisStore(configuration: try RedisStoreConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3"))
        let usage = try await tcp.usage(team: admission.reservation.team, period: .total, now: Date())
        #expect(usage.total.completionTokens == 4)
        await tcp.shutdown()
        await store.shutdown()
    }

    @Test func aMissingSocketIsUnavailableNotACrash() async throws {
        let store = RedisStore(configuration: try RedisStoreConfiguration(url: "unix:///nonexistent/tollgate-test/redis.sock"))
        #expect(await store.ping() == false)
        await #expect(throws: StoreError.self) { try await store.admit(StoreTestSupport.rpmRequest(), now: Date()) }
        await store.shutdown()
    }

    @Test func wrongTypeInRedisIsUnavailableNotACrash() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        // The team's rate-limit hash holds a plain string instead.
        #expect(try server.command(["SET", "tollgate:{research}:gcra", "x"]) == "OK")
        do {
            _ = try await store.admit(StoreTestSupport.rpmRequest(), now: Date())
            Issue.record("admit succeeded over a wrong-typed key")
        } catch let error as StoreError {
            #expect(error.isUnavailability)
        }
        #expect(await store.ping())
        await store.shutdown()
    }
}
