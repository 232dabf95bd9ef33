#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Testing
import TollgateCore

/// BENCHMARK, NOT A CHECK: prints timings and asserts nothing about them. Runs only with TOLLGATE_BENCH=1:
///   TOLLGATE_BENCH=1 swift test --scratch-path .build-x --filter printsScorerAndBreakerTimings
/// Debug builds are several times slower than release; docs/routing.md quotes a release (-O) figure too.
@Test(.enabled(if: getenv("TOLLGATE_BENCH") != nil))
func printsScorerAndBreakerTimings() {
    let paragraph = "Please analyze the trade-offs between a B-tree and an LSM tree for a write-heavy workload. "
    let code = "```swift\nfunc add(_ a: Int, _ b: Int) -> Int {\n    return a + b\n}\n```\n"
    var prompt = ""
    while prompt.utf8.count < 4_096 { prompt += paragraph + "1. Compare latency; is x^2 + 3 = 7 relevant?\n" + code }
    prompt = String(decoding: Array(prompt.utf8.prefix(4_096)), as: UTF8.self)
    let input = ComplexityInput(messages: [(role: "user", text: prompt)], toolCount: 1, maxTokens: 1_024)
    let scorer = ComplexityScorer(config: ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5))
    let clock = ContinuousClock()
    var sink = 0.0
    let runs = 2_000
    let scoring = clock.measure { for _ in 0..<runs { sink += scorer.score(input).score } }
    print("BENCH scorer: \(prompt.utf8.count)-byte prompt, \(scoring / runs) per score (\(runs) runs)")

    let registry = BreakerRegistry()
    let target = TargetID(provider: "openai", model: "gpt-4o")
    let pairs = 100_000
    let breaking = clock.measure {
        for index in 0..<pairs {
            let now = MonotonicInstant(nanoseconds: Int64(index) * 1_000)
            if let permit = registry.acquire(target, now: now).permit {
                registry.record(target, permit: permit, outcome: .status(200), now: now)
            }
        }
    }
    print("BENCH breaker: acquire + record \(breaking / pairs) per request (\(pairs) runs)")
    #expect(sink >= 0)
}
