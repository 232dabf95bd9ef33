import Foundation
import Synchronization
import Testing

@testable import TollgateUpstream

/// Throughput figures, printed rather than asserted (timing depends on the machine).
/// Run with `TOLLGATE_UPSTREAM_BENCH=1`; set `TOLLGATE_UPSTREAM_BENCH_URL` to target e.g. nginx.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_UPSTREAM_BENCH"] == "1"))
struct CurlClientThroughputTests {
    @Test func smallPostThroughput() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let url = ProcessInfo.processInfo.environment["TOLLGATE_UPSTREAM_BENCH_URL"] ?? server.url("/echo")
        let count = Int(ProcessInfo.processInfo.environment["TOLLGATE_UPSTREAM_BENCH_N"] ?? "") ?? 10_000
        let threads = Int(ProcessInfo.processInfo.environment["TOLLGATE_UPSTREAM_BENCH_THREADS"] ?? "") ?? 1
        let client = CurlClient(threads: threads, maxConnections: 256)
        defer { client.shutdown() }
        let payload = Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let request = UpstreamRequest(url: url, headers: [("Content-Type", "application/json")], body: payload)

        let clock = ContinuousClock()
        let sequential = try await clock.measure {
            for _ in 0..<count {
                let response = try await client.execute(request)
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
        let concurrency = 64
        let failures = FailureCounter()
        let concurrent = await clock.measure {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        for _ in stride(from: worker, to: count, by: concurrency) {
                            do {
                                let response = try await client.execute(request)
                                _ = try await response.body.collect(upTo: 1 << 20)
                            } catch {
                                failures.increment()
                            }
                        }
                    }
                }
            }
        }
        func rate(_ d: Duration) -> Int { Int(Double(count) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)) }
        print("upstream-bench url=\(url) threads=\(threads) n=\(count)")
        print("upstream-bench sequential: \(sequential) -> \(rate(sequential)) req/s")
        print("upstream-bench concurrent(\(concurrency)): \(concurrent) -> \(rate(concurrent)) req/s, failures=\(failures.value)")
        #expect(client.activeTransfers == 0)
    }
}

/// Counts failed requests across the benchmark's concurrent tasks.
final class FailureCounter: Sendable {
    private let storage = Atomic<Int>(0)
    func increment() { storage.add(1, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}
