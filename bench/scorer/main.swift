import Glibc
// Non-asserting micro-benchmark for the complexity scorer and the breaker check.
// Build and run: see README.md in this folder.
let paragraph = "Please analyze the trade-offs between a B-tree and an LSM tree for a write-heavy workload, and explain why compaction matters. "
let code = "```swift\nfunc add(_ a: Int, _ b: Int) -> Int {\n    return a + b\n}\n```\n"
var prompt = ""
while prompt.utf8.count < 4096 { prompt += paragraph; prompt += "1. Compare latency; is x^2 + 3 = 7 relevant?\n"; prompt += code }
prompt = String(prompt.utf8.prefix(4096))!
let input = ComplexityInput(messages: [(role: "system", text: "You are helpful."), (role: "user", text: prompt)], toolCount: 1, maxTokens: 1024)
let scorer = ComplexityScorer(config: ComplexityConfig(simple: "gpt-4o-mini", complex: "gpt-4o", threshold: 0.5))
let clock = ContinuousClock()
func cpuNanos() -> Int64 { var ts = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec) }
var sink = 0.0
for _ in 0..<2_000 { sink += scorer.score(input).score }
let iterations = 20_000
let start = clock.now
let cpu0 = cpuNanos()
for _ in 0..<iterations { sink += scorer.score(input).score }
let elapsed = clock.now - start
let cpu1 = cpuNanos()
let r = scorer.score(input)
print("scorer: \(prompt.utf8.count) B prompt, \(iterations) runs, \(elapsed / iterations) per score (wall), \(Double(cpu1 - cpu0) / Double(iterations) / 1000) µs CPU per score; \(r.headerValue())")
for f in r.features { print("  \(f.name): value=\(f.value) contribution=\(f.contribution)") }

let registry = BreakerRegistry()
let target = TargetID(provider: "openai", model: "gpt-4o")
let t0 = MonotonicInstant.zero
let n2 = 1_000_000
let s2 = clock.now
let c20 = cpuNanos()
for k in 0..<n2 {
    let now = t0 + .microseconds(k)
    if let permit = registry.acquire(target, now: now).permit { registry.record(target, permit: permit, outcome: .success, now: now) }
}
let e2 = clock.now - s2
let c21 = cpuNanos()
print("breaker acquire+record (uncontended): \(e2 / n2) per request pair (wall), \(Double(c21 - c20) / Double(n2)) ns CPU per pair, \(n2) runs")
var prose = ""
while prose.utf8.count < 4096 { prose += "Could you compare the two approaches and explain why one of them scales better? We measured 3 x 4 = 12 nodes, and the second design was slower. " }
prose = String(prose.utf8.prefix(4096))!
let proseInput = ComplexityInput(messages: [(role: "user", text: prose)])
let p0 = cpuNanos()
for _ in 0..<iterations { sink += scorer.score(proseInput).score }
let p1 = cpuNanos()
print("scorer (prose only, no code fence): \(Double(p1 - p0) / Double(iterations) / 1000) µs CPU per score")
print(sink > 0 ? "" : "-")
