import Foundation
import Testing
import TollgateCore
import TollgateStore

/// How the Redis scripts lay state out: one TAT hash per team whose TTL always outlives its TATs,
/// budget and usage hashes that expire after their period's retention.
@Suite(.serialized, .enabled(if: RedisServerFixture.shouldRun, "redis-server is not installed; Redis tests skipped (they fail when CI is set)"))
struct RedisLayoutTests {
    func makeStore(_ server: RedisServerFixture, clock: RedisClock = .server, options: RedisConnectionOptions = RedisConnectionOptions()) throws -> RedisStore {
        var configuration = try RedisStoreConfiguration(url: server.url)
        configuration.clock = clock
        configuration.connection = options
        configuration.poolSize = 1
        return RedisStore(configuration: configuration)
    }

    @Test func allRateLimitsOfATeamShareOneHashWhoseTTLOutlivesEveryTAT() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server)
        // 600 of 1,000 tpm: the TAT lands 36 s ahead.
        let request = AdmissionRequest(
            team: "research", keyID: "key_a",
            limits: [
                .requestsPerMinute(key: "team:rpm", limit: 100), .tokensPerMinute(key: "team:tpm", limit: 1000, estimatedTokens: 600),
                .requestsPerMinute(key: "key:key_a:rpm", limit: 50),
            ],
            budgets: [])
        guard case .admitted(let admission) = try await store.admit(request, now: Date()) else {
            Issue.record("expected admission")
            return
        }
        let hash = "tollgate:{research}:gcra"
        #expect(try server.command(["HLEN", hash]) == "4")  // three rules and ~exp
        #expect(try server.command(["DBSIZE"]) == "1")
        let firstTTL = try #require(Int(try server.command(["PTTL", hash])))
        #expect(firstTTL > 36_000 && firstTTL <= 98_000)
        // Settling 20,000 tokens against the 600 reserved pushes the tpm TAT ten windows out (the debt
        // cap); the hash must now live at least that long.
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 10_000, completionTokens: 10_000, costMicros: 0))
        let laterTTL = try #require(Int(try server.command(["PTTL", hash])))
        #expect(laterTTL > 600_000)
        // And the debt is real: the next token request is refused for about that long.
        guard case .refused(.rateLimited(let rule, _, let retryAfter, _)) = try await store.admit(request, now: Date()) else {
            Issue.record("expected a rate-limit refusal")
            return
        }
        #expect(rule == "team:tpm")
        #expect(retryAfter > 500 && Double(laterTTL) / 1000 > retryAfter)
        await store.shutdown()
    }

    @Test func budgetAndUsageHashesExpireAfterTheirPeriodsRetention() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server, clock: .caller)
        let now = Date()
        let request = AdmissionRequest(
            team: "research", keyID: "key_a", limits: [],
            budgets: [
                BudgetRule(scope: "team", period: .daily, tokenLimit: 10_000, microsLimit: nil, reserveTokens: 300, reserveMicros: 0),
                BudgetRule(scope: "team", period: .total, tokenLimit: 10_000, microsLimit: nil, reserveTokens: 300, reserveMicros: 0),
            ])
        guard case .admitted(let admission) = try await store.admit(request, now: now) else {
            Issue.record("expected admission")
            return
        }
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 100, completionTokens: 50, costMicros: 7))
        let day = BudgetPeriod.daily.key(at: now)
        let month = BudgetPeriod.monthly.key(at: now)
        // TTL counts down in whole seconds, and a machine loaded by the parallel suites has been seen to
        // spend several between EXPIRE and TTL; what matters is which retention (3 or 62 days) was set.
        func secondsToLive(_ key: String) throws -> Int { Int(try server.command(["TTL", key])) ?? -99 }
        #expect((259_140...259_200).contains(try secondsToLive("tollgate:{research}:bg:team|\(day)")))
        #expect(try server.command(["TTL", "tollgate:{research}:bg:team|total"]) == "-1")
        #expect((259_140...259_200).contains(try secondsToLive("tollgate:{research}:us:\(day)")))
        #expect((5_356_740...5_356_800).contains(try secondsToLive("tollgate:{research}:us:\(month)")))
        #expect(try server.command(["TTL", "tollgate:{research}:us:total"]) == "-1")
        #expect(try server.command(["HGET", "tollgate:{research}:bg:team|\(day)", "t"]) == "150")
        #expect(try await store.usage(team: "research", period: .total, now: now).perKey["key_a"]?.completionTokens == 50)
        await store.shutdown()
    }

    @Test func usageCountedBeforeCountersWerePackedStillAddsUp() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server, clock: .caller)
        let now = Date()
        let hash = "tollgate:{research}:us:\(BudgetPeriod.monthly.key(at: now))"
        // Decimal fields, one per counter, as the previous settle script wrote them.
        let legacy = [
            "requests", "2", "prompt_tokens", "30", "completion_tokens", "40", "cost_micros", "5",
            "k:key_a:requests", "2", "k:key_a:prompt_tokens", "30", "k:key_a:completion_tokens", "40", "k:key_a:cost_micros", "5",
        ]
        #expect(try server.command(["HSET", hash] + legacy) == "8")
        let request = AdmissionRequest(team: "research", keyID: "key_a", limits: [.requestsPerMinute(key: "team:rpm", limit: 10)], budgets: [])
        guard case .admitted(let admission) = try await store.admit(request, now: now) else {
            Issue.record("expected admission")
            return
        }
        try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 100, completionTokens: 50, costMicros: 7))
        let report = try await store.usage(team: "research", period: .monthly, now: now)
        let expected = UsageCounters(requests: 3, promptTokens: 130, completionTokens: 90, costMicros: 12)
        #expect(report.total == expected)
        #expect(report.perKey == ["key_a": expected])
        #expect(try server.command(["HLEN", hash]) == "10")  // the eight legacy fields, `n` and `k:key_a`
        await store.shutdown()
    }

    @Test func backlogQueuedWhileRedisIsFrozenIsSentInOrderWhenItResumes() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = try makeStore(server, options: RedisConnectionOptions(commandTimeout: .seconds(20)))
        let records = try (0..<20).map { try StoreTestSupport.record(name: "k\($0)").1 }
        for record in records { try await store.insertKey(record) }
        server.pause()
        // 30 commands of 400 KB each (more than the socket buffers hold) interleaved with key lookups:
        // what the socket does not take waits in the worker's outbox and must keep its place.
        let wide = String(repeating: "w", count: 400_000)
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask {
                    if index % 5 < 3 {
                        let report = try await store.usage(team: wide + String(index), period: .total, now: Date())
                        return report.total.requests == 0
                    }
                    let record = records[index % records.count]
                    return try await store.key(hash: record.hash)?.id == record.id
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            server.resume()
            var results: [Bool] = []
            for try await ok in group { results.append(ok) }
            return results
        }
        #expect(outcomes.count == 50)
        #expect(outcomes.allSatisfy { $0 })
        await store.shutdown()
    }
}
