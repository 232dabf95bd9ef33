import Foundation
import Testing
import TollgateServer
import TollgateUpstream

/// Issue 4: Redis killed mid-test and restarted on the same port. No crash, the configured
/// `state.on_unavailable` is honoured, `/readyz` says why, and limits resume by themselves.
@Suite(.serialized) struct RedisFailureTests {
    init() { ProviderKeyEnvironment.install() }

    /// Every Redis test runs its own server here (it gets killed), so only the binary matters.
    static var enabled: Bool { RedisServerProcess.executable != nil || TestRedis.required }

    @Test(.enabled(if: enabled)) func failClosedRefusesWith503AndIsNotReadyUntilRedisReturns() async throws {
        try await outage(mode: "fail_closed")
    }

    @Test(.enabled(if: enabled)) func failOpenLetsRequestsThroughUnmeteredUntilRedisReturns() async throws {
        try await outage(mode: "fail_open")
    }

    private func outage(mode: String) async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "state: {on_unavailable: \(mode)}\n", teamExtra: "    rpm: 5\n")
            try await TestRedis.withPrivateServer { redis in
                try await GatewayHarness.withGateway(policy: policy, redisURL: redis.url) { gw in
                    let before = try await gw.chat("m0")
                    #expect(before.status == 200)
                    #expect(before.header("x-ratelimit-limit-requests") == "5")
                    #expect(try await gw.request("GET", "/readyz", key: nil).status == 200)

                    // Kill Redis while requests are in flight.
                    let inFlight = Task { try await concurrently(20) { _ in try await gw.chat("m0") } }
                    try await Task.sleep(for: .milliseconds(5))
                    redis.kill()
                    let during = try await inFlight.value
                    #expect(during.allSatisfy { [200, 429, 503].contains($0.status) }, "statuses \(during.map(\.status))")

                    let downReplies = try await concurrently(10) { _ in try await gw.chat("m0") }
                    if mode == "fail_closed" {
                        #expect(downReplies.allSatisfy { $0.status == 503 }, "fail_closed: \(downReplies.map(\.status))")
                        #expect(downReplies.allSatisfy { $0.isOpenAIError })
                        #expect(downReplies.allSatisfy { $0.errorCode == "state_store_unavailable" && $0.header("retry-after") == "1" },
                                "a store outage names itself and says when to retry: \(downReplies.map { $0.errorCode ?? "-" })")
                    } else {
                        #expect(downReplies.allSatisfy { $0.status == 200 }, "fail_open: \(downReplies.map(\.status))")
                        #expect(downReplies.allSatisfy { $0.header("x-ratelimit-limit-requests") == nil }, "unmetered while Redis is down")
                    }
                    let ready = try await gw.request("GET", "/readyz", key: nil)
                    #expect(ready.status == 503)
                    #expect(ready.text.contains("state store"), "readyz should say why: \(ready.text)")
                    #expect(try await gw.request("GET", "/healthz", key: nil).status == 200, "the process stays up")
                    let metrics = try await gw.request("GET", "/metrics", key: nil)
                    #expect(metrics.text.contains("store_unavailable"), "a metric counts the outage")

                    // Same port, empty data: the gateway reconnects by itself.
                    try redis.start()
                    let restarted = ContinuousClock.now
                    var readyStreak = 0
                    while seconds(since: restarted) < 15 && readyStreak < 4 {
                        readyStreak = try await gw.request("GET", "/readyz", key: nil).status == 200 ? readyStreak + 1 : 0
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(readyStreak >= 4, "not ready again 15 s after Redis returned")
                    print("[figure] \(mode): ready again \(String(format: "%.2f", seconds(since: restarted))) s after Redis restarted")

                    // Limits resume: requests are metered again and the 6th within the minute is refused.
                    var metered200 = 0
                    var sawLimit = false
                    for _ in 0..<40 {
                        let reply = try await gw.chat("m0")
                        if reply.status == 429 {
                            sawLimit = reply.errorCode == "rate_limit_exceeded"
                            break
                        }
                        if reply.status == 200, reply.header("x-ratelimit-limit-requests") != nil { metered200 += 1 }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(sawLimit, "rpm 5 never refused after Redis came back")
                    #expect(metered200 == 5, "metered requests admitted after recovery: \(metered200)")
                }
            }
        }
    }

    @Test(.enabled(if: enabled)) func knownKeysKeepWorkingBrieflyWhileRedisIsDownButUnknownOnesAreNotLetIn() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "state: {on_unavailable: fail_open}\n")
            try await TestRedis.withPrivateServer { redis in
                try await GatewayHarness.withGateway(policy: policy, redisURL: redis.url) { gw in
                    let key = try await gw.issueKey()
                    #expect(try await gw.chat("m0", key: key.secret).status == 200)
                    redis.kill()
                    // Cached within the stale window: still served (fail_open for limits).
                    #expect(try await gw.chat("m0", key: key.secret).status == 200)
                    // Never seen: cannot be verified, so refused (never let through).
                    let unknown = try await gw.chat("m0", key: "sk-tg-" + String(repeating: "Z", count: 40))
                    #expect(unknown.status == 503 || unknown.status == 401, "\(unknown.status)")
                    let admin = try await gw.admin("POST", "/admin/keys", body: #"{"team":"t1"}"#)
                    #expect(admin.status == 503 && admin.isOpenAIError, "admin while Redis is down: \(admin.status)")
                    try redis.start()
                }
            }
        }
    }
}
