import Foundation
import Testing
import TollgateServer

/// Policy fragments and admin/metrics readers shared by the routing, canary, failover and breaker suites.
enum ResiliencePolicy {
    /// A `circuit_breaker` + `retries` block with small numbers, so tests see transitions in seconds.
    static func breaker(threshold: Int, cooldown: Int, window: Int = 30, probes: Int = 1, retries: Int = 2, backoffMs: Int = 5) -> String {
        "circuit_breaker: {failure_threshold: \(threshold), window_s: \(window), cooldown_s: \(cooldown), half_open_probes: \(probes)}\n"
            + "retries: {max: \(retries), backoff_ms: \(backoffMs)}\n"
    }

    /// Provider timeouts with a short first-byte and idle budget.
    static func timeouts(firstByteMs: Int = 2000, idleMs: Int = 2000) -> String {
        "{connect_ms: 500, first_byte_ms: \(firstByteMs), total_ms: 10000, idle_ms: \(idleMs)}"
    }
}

extension RunningGateway {
    static let adminToken = "test-admin-token"

    /// `GET /admin/status` as JSON (fails the test when it is not a JSON object).
    func adminStatus() async throws -> [String: Any] {
        let reply = try await request("GET", "/admin/status", key: Self.adminToken)
        #expect(reply.status == 200)
        return try #require(reply.json)
    }

    /// The status entry of one breaker (`provider/model`), if the gateway has seen that target.
    func breaker(_ target: String) async throws -> [String: Any]? {
        let breakers = try await adminStatus()["breakers"] as? [[String: Any]] ?? []
        return breakers.first { $0["target"] as? String == target }
    }

    /// The status entries of one canary model's variants, keyed by variant name.
    func canaryVariants(_ model: String) async throws -> [String: [String: Any]] {
        let canaries = try await adminStatus()["canaries"] as? [String: Any] ?? [:]
        let variants = canaries[model] as? [[String: Any]] ?? []
        var byName: [String: [String: Any]] = [:]
        for v in variants { if let name = v["variant"] as? String { byName[name] = v } }
        return byName
    }

    func metricsText() async throws -> String {
        try await request("GET", "/metrics", key: nil).text
    }

    /// A chat request whose content is JSON-escaped (for multi-line prompts) with raw `extra` members.
    func chat(model: String, prompt: String, extra: String = "", key: String? = GatewayHarness.demoKey) async throws -> Reply {
        let content = String(decoding: try JSONSerialization.data(withJSONObject: [prompt], options: []), as: UTF8.self).dropFirst().dropLast()
        let body = #"{"model":"\#(model)","messages":[{"role":"user","content":\#(content)}]\#(extra)}"#
        return try await request("POST", "/v1/chat/completions", body: body, key: key)
    }
}

/// Runs `count` calls with at most `width` in flight, returning their results in index order.
func boundedConcurrently<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
        for worker in 0..<width {
            group.addTask {
                var out: [(Int, T)] = []
                for i in stride(from: worker, to: count, by: width) { out.append((i, try await body(i))) }
                return out
            }
        }
        var all: [(Int, T)] = []
        for try await part in group { all += part }
        return all.sorted { $0.0 < $1.0 }.map(\.1)
    }
}

/// The sample value of the first Prometheus line that starts with `prefix` (name plus labels).
func metricValue(_ text: String, _ prefix: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
        return Double(line.dropFirst(prefix.count + 1).split(separator: " ").first ?? "")
    }
    return nil
}
