import Foundation
import Testing
import TollgateCore
import TollgateStore

/// Latency figures for the report (printed); each also checks that every measured call did its job.
/// BENCHMARK: runs only with `TOLLGATE_BENCH=1` (`TOLLGATE_BENCH=1 swift test --filter AdmitBenchmarkTests`,
/// or with `-c release` for production numbers), so the test suite does not spend CPU on it while timing
/// other tests.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_BENCH"] == "1"))
struct AdmitBenchmarkTests {
    static let iterations = 3000

    /// A realistic admission: team rpm + tpm, key rpm, team monthly budget.
    static func request(_ index: Int) -> AdmissionRequest {
        AdmissionRequest(
            team: "bench", keyID: "key_bench",
            limits: [
                .requestsPerMinute(key: "team:rpm", limit: 100_000_000), .requestsPerMinute(key: "key:key_bench:rpm", limit: 100_000_000),
                .tokensPerMinute(key: "team:tpm", limit: 1_000_000_000, estimatedTokens: 200),
            ],
            budgets: [
                BudgetRule(scope: "team", period: .monthly, tokenLimit: Int64.max / 4, microsLimit: nil, reserveTokens: 200, reserveMicros: 10)
            ])
    }

    @Test func memoryStoreAdmitLatency() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        var refused = 0
        let figures = try await StoreTestSupport.percentiles(iterations: Self.iterations) {
            if case .refused = try await store.admit(Self.request(0), now: Date()) { refused += 1 }
        }
        print("BENCH MemoryStore admit p50=\(Int(figures.p50)) µs p99=\(Int(figures.p99)) µs (n=\(Self.iterations))")
        #expect(refused == 0)
    }

    @Test(.enabled(if: RedisServerFixture.shouldRun, "redis-server is not installed"))
    func redisStoreAdmitLatencyOnLoopback() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = RedisStore(configuration: try RedisStoreConfiguration(url: server.url))
        var refused = 0
        for _ in 0..<200 { _ = try await store.admit(Self.request(0), now: Date()) }
        let figures = try await StoreTestSupport.percentiles(iterations: Self.iterations) {
            if case .refused = try await store.admit(Self.request(0), now: Date()) { refused += 1 }
        }
        print("BENCH RedisStore admit (loopback, 1 client) p50=\(Int(figures.p50)) µs p99=\(Int(figures.p99)) µs (n=\(Self.iterations))")
        let settleFigures = try await StoreTestSupport.percentiles(iterations: 1000) {
            if case .admitted(let admission) = try await store.admit(Self.request(0), now: Date()) {
                try await store.settle(admission.reservation, actual: UsageAmount(promptTokens: 100, completionTokens: 50, costMicros: 5))
            }
        }
        // 32 concurrent callers: pipelining writes their commands together.
        let clock = ContinuousClock()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<32 {
                group.addTask {
                    var samples: [Double] = []
                    for _ in 0..<100 {
                        let elapsed = try await clock.measure { _ = try await store.admit(Self.request(0), now: Date()) }
                        samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        let seconds = Double((clock.now - started).components.attoseconds) / 1e18 + Double((clock.now - started).components.seconds)
        print("BENCH RedisStore admit, 32 concurrent callers: \(Int(Double(latencies.count) / seconds)) admits/s, p50=\(Int(latencies[latencies.count / 2])) µs")
        #expect(latencies.count == 3200)
        print("BENCH RedisStore admit+settle p50=\(Int(settleFigures.p50)) µs p99=\(Int(settleFigures.p99)) µs")
        #expect(refused == 0)

        // Auth against Redis through the per-replica cache, 10,000 keys issued.
        let cache = KeyCache(store: store)
        var secrets: [String] = []
        for index in 0..<10_000 {
            let (secret, record) = try StoreTestSupport.record(name: "k\(index)")
            if index % 100 == 0 { secrets.append(secret.plaintext) }
            try await store.insertKey(record)
        }
        var misses = 0
        var index = 0
        for secret in secrets { _ = try await cache.record(hash: sha256Hex(secret)) }
        let auth = try await StoreTestSupport.percentiles(iterations: Self.iterations) {
            index += 1
            if try await cache.record(hash: sha256Hex(secrets[index % secrets.count])) == nil { misses += 1 }
        }
        print("BENCH sha256 + KeyCache(RedisStore) hit with 10,000 keys p50=\(String(format: "%.1f", auth.p50)) µs p99=\(String(format: "%.1f", auth.p99)) µs")
        #expect(misses == 0)
        await store.shutdown()
    }

    @Test func keyLookupWithTenThousandKeys() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        var secrets: [String] = []
        for index in 0..<10_000 {
            let (secret, record) = try StoreTestSupport.record(name: "k\(index)")
            if index % 100 == 0 { secrets.append(secret.plaintext) }
            try await store.insertKey(record)
        }
        var misses = 0
        var index = 0
        let figures = await StoreTestSupport.percentiles(iterations: Self.iterations) {
            index += 1
            if store.lookup(hash: sha256Hex(secrets[index % secrets.count])) == nil { misses += 1 }
        }
        print("BENCH sha256 + MemoryStore.lookup with 10,000 keys p50=\(String(format: "%.1f", figures.p50)) µs p99=\(String(format: "%.1f", figures.p99)) µs")
        #expect(misses == 0)
    }
}
