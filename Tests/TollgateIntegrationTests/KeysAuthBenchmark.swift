import Foundation
import Testing
import TollgateCore
@testable import TollgateServer
import TollgateStore

/// Benchmarks, not timed tests: they print figures and only check that auth still answers
/// correctly. Run with `TOLLGATE_BENCH=1` (see bench/auth-and-limits/run.sh).
enum Bench {
    static var enabled: Bool { ProcessInfo.processInfo.environment["TOLLGATE_BENCH"] == "1" }

    static func percentile(_ samples: [Duration], _ p: Double) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return 0 }
        let d = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        return Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }

    static func report(_ label: String, _ samples: [Duration]) {
        print(String(format: "[bench] %@: p50 %.2f µs, p90 %.2f µs, p99 %.2f µs (n=%d)",
                     label, percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99), samples.count))
    }

    static let policyYAML = """
        version: 1
        providers:
          p: {kind: openai, base_url: "http://127.0.0.1:9/v1"}
        models:
          m: {targets: [{provider: p, model: m}], price: {input_per_1m: 0.15, output_per_1m: 0.60}}
        teams:
          t1: {rpm: 100000000, tpm: 1000000000, budget: {tokens: 1000000000000, usd: 1000000, period: monthly}}
        """

    static func policy() throws -> PolicySnapshot { try PolicyLoader.load(text: policyYAML, path: "bench.yaml") }

    /// Issues `count` keys straight into `store`; returns their secrets.
    static func issue(_ count: Int, into store: any StateStore) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<count {
                group.addTask {
                    let secret = try APIKeySecret.generate()
                    try await store.insertKey(APIKeyRecord(id: try APIKeyID.generate(), team: "t1", name: "bench", hash: secret.hash, createdAt: Date()))
                    return secret.plaintext
                }
            }
            var secrets: [String] = []
            for try await secret in group { secrets.append(secret) }
            return secrets
        }
    }
}

@Suite(.serialized) struct KeysAuthBenchmark {
    /// StoreAuthenticator (SHA-256 + policy-key check + cache) over 10,000 issued keys, random order.
    @Test(.enabled(if: Bench.enabled)) func authWithTenThousandIssuedKeysEmbeddedAndRedis() async throws {
        let policy = try Bench.policy()
        let memory = try MemoryStore(dataDirectory: nil)
        let secrets = try await Bench.issue(10_000, into: memory)
        try await measure(StoreAuthenticator(store: memory), secrets: secrets, policy: policy, label: "auth embedded, 10k keys")

        if TestRedis.enabled {
            try await TestRedis.withDatabase { url in
                let redis = RedisStore(configuration: try RedisStoreConfiguration(url: url))
                let redisSecrets = try await Bench.issue(10_000, into: redis)
                try await measure(StoreAuthenticator(store: redis), secrets: redisSecrets, policy: policy, label: "auth redis, 10k keys")
                await redis.shutdown()
            }
        }
        await memory.shutdown()
    }

    private func measure(_ auth: StoreAuthenticator, secrets: [String], policy: PolicySnapshot, label: String) async throws {
        var misses: [Duration] = []
        misses.reserveCapacity(secrets.count)
        for secret in secrets {
            let start = ContinuousClock.now
            let principal = try await auth.authenticate(secret: secret, policy: policy)
            misses.append(ContinuousClock.now - start)
            #expect(principal.team == "t1")
        }
        Bench.report("\(label), first lookup (cache miss → store)", misses)
        var hits: [Duration] = []
        hits.reserveCapacity(secrets.count)
        for secret in secrets {
            _ = try await auth.authenticate(secret: secret, policy: policy)
            let start = ContinuousClock.now
            _ = try await auth.authenticate(secret: secret, policy: policy)
            hits.append(ContinuousClock.now - start)
        }
        Bench.report("\(label), fresh cache hit", hits)
        var samples: [Duration] = []
        samples.reserveCapacity(200_000)
        var generator = SystemRandomNumberGenerator()
        let loopStart = ContinuousClock.now
        for _ in 0..<200_000 {
            let secret = secrets[Int(generator.next() % UInt64(secrets.count))]
            let start = ContinuousClock.now
            _ = try await auth.authenticate(secret: secret, policy: policy)
            samples.append(ContinuousClock.now - start)
        }
        Bench.report("\(label), random keys over 10k for \(String(format: "%.1f", seconds(since: loopStart))) s (1 s cache: a key used < 1/s misses)", samples)
        var hashing: [Duration] = []
        for secret in secrets.prefix(10_000) {
            let start = ContinuousClock.now
            _ = KeyCrypto.sha256Hex(secret)
            hashing.append(ContinuousClock.now - start)
        }
        Bench.report("\(label), of which SHA-256 alone", hashing)
    }
}
