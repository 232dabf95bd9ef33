import Foundation
import Logging
import Testing
import TollgateCore
@testable import TollgateServer
import TollgateStore

/// Admission (all rate limits + budget reserve in one store call) and settle latency.
@Suite(.serialized) struct LimitsAdmitBenchmark {
    @Test(.enabled(if: Bench.enabled)) func admitAndSettleLatencyEmbeddedAndRedisOnLoopback() async throws {
        let policy = try Bench.policy()
        let memory = try MemoryStore(dataDirectory: nil)
        try await measure(store: memory, policy: policy, label: "embedded")
        await memory.shutdown()
        if TestRedis.enabled {
            try await TestRedis.withDatabase { url in
                let redis = RedisStore(configuration: try RedisStoreConfiguration(url: url))
                try await measure(store: redis, policy: policy, label: "redis loopback")
                await redis.shutdown()
            }
        }
    }

    private func measure(store: any StateStore, policy: PolicySnapshot, label: String) async throws {
        let metrics = GatewayMetrics()
        let gate = AdmissionGate(store: store, metrics: metrics, settler: UsageSettler(store: store, metrics: metrics), leases: nil)
        let logger = GatewayHarness.quietLogger
        // Team rpm + tpm, key rpm + tpm, team budget (tokens and USD): 4 GCRA rules + 1 budget, one call.
        let principal = Principal(keyID: "key_bench", team: "t1", rpm: 50_000_000, tpm: 500_000_000)
        let texts = ["Summarise the attached meeting notes in three bullet points, please."]
        var admits: [Duration] = []
        var handOffs: [Duration] = []
        var settles: [Duration] = []
        var interleavedPings: [Duration] = []
        for round in 0..<5_000 {
            let start = ContinuousClock.now
            let ticket = try await gate.admit(principal: principal, policy: policy, servedModel: "m", texts: texts, maxTokens: 256, logger: logger)
            let admitted = ContinuousClock.now
            admits.append(admitted - start)
            // What the request waits for (the hand-off to the settler), and on alternate rounds what
            // the settler then spends on the store, off the request path. The handed-off settle runs
            // while the next round's admit goes out, as it does between requests in production.
            if round % 2 == 0, let reservation = ticket.reservation {
                try await store.settle(reservation, actual: UsageAmount(promptTokens: 20, completionTokens: 100, costMicros: 0))
                settles.append(ContinuousClock.now - admitted)
            } else {
                await gate.settle(ticket, usage: TokenUsage(promptTokens: 20, completionTokens: 100), logger: logger)
                handOffs.append(ContinuousClock.now - admitted)
            }
            #expect(ticket.reservation != nil)
            // The round trip as the admission path meets it: a ping after admission work, not
            // one of thousands back to back with every cache warm for exactly that path.
            let pingStart = ContinuousClock.now
            _ = await store.ping()
            interleavedPings.append(ContinuousClock.now - pingStart)
        }
        var pings: [Duration] = []
        for _ in 0..<5_000 {
            let start = ContinuousClock.now
            _ = await store.ping()
            pings.append(ContinuousClock.now - start)
        }
        Bench.report("ping through the store (\(label), transport floor)", pings)
        Bench.report("ping between admissions (\(label), floor as admit meets it)", interleavedPings)
        Bench.report("admit (\(label), 4 limits + 1 budget, sequential)", admits)
        Bench.report("settle hand-off (\(label), what the request waits for)", handOffs)
        Bench.report("settle store write (\(label), off the request path)", settles)
        // Under concurrency (64 in flight), per-call latency as seen by each request.
        let concurrent = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var local: [Duration] = []
                    for _ in 0..<100 {
                        let start = ContinuousClock.now
                        let ticket = try await gate.admit(principal: principal, policy: policy, servedModel: "m", texts: texts, maxTokens: 256, logger: logger)
                        local.append(ContinuousClock.now - start)
                        await gate.settle(ticket, usage: TokenUsage(promptTokens: 20, completionTokens: 100), logger: logger)
                    }
                    return local
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        Bench.report("admit (\(label), 64 concurrent)", concurrent)
    }
}
