import Foundation
import Testing
import TollgateServer

/// Issue 5 end to end: router aliases pick a model by prompt complexity and say why in `x-tollgate-route`.
@Suite(.serialized) struct RoutingTests {
    init() { ProviderKeyEnvironment.install() }

    static let hardPrompt = """
        Analyze this algorithm rigorously and prove its complexity. Compare it with quicksort and evaluate the \
        tradeoffs, then derive the recurrence T(n) = 2T(n/2) + n and solve the equation.
        ```swift
        func mergeSort(_ a: [Int]) -> [Int] {
            guard a.count > 1 else { return a }
            let mid = a.count / 2
            return merge(mergeSort(Array(a[..<mid])), mergeSort(Array(a[mid...])))
        }
        ```
        1. What is the worst case?
        2. Why does the merge step dominate?
        3. How would you optimize memory use?
        """

    /// `x-tollgate-route` split into (router, score, model).
    static func route(_ reply: RunningGateway.Reply) -> (String, Double, String)? {
        guard let header = reply.header("x-tollgate-route") else { return nil }
        let parts = header.split(separator: ";").map(String.init)
        guard parts.count == 3, parts[1].hasPrefix("score="), parts[2].hasPrefix("model="),
              let score = Double(parts[1].dropFirst(6)) else { return nil }
        return (parts[0], score, String(parts[2].dropFirst(6)))
    }

    @Test func autoSendsShortPromptsToTheSimpleModelAndHardOnesToTheComplexModel() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let extra = "routing:\n  auto: {simple: m0, complex: m1, threshold: 0.5}\n"
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, extra: extra)) { gw in
                let easy = try await gw.chat(model: "auto", prompt: "Hi, what time zone is Paris in?")
                #expect(easy.status == 200)
                let easyRoute = try #require(Self.route(easy))
                #expect(easyRoute.0 == "auto" && easyRoute.2 == "m0")
                #expect(easyRoute.1 < 0.5)
                #expect(easy.header("x-tollgate-model") == "m0")
                #expect(easy.header("x-tollgate-provider") == "p0")

                let hard = try await gw.chat(model: "auto", prompt: Self.hardPrompt)
                #expect(hard.status == 200)
                let hardRoute = try #require(Self.route(hard))
                #expect(hardRoute.0 == "auto" && hardRoute.2 == "m1")
                #expect(hardRoute.1 >= 0.5)
                #expect(hard.header("x-tollgate-model") == "m1")
                #expect(hard.header("x-tollgate-provider") == "p1")
                print("FIGURE auto route headers: \(easy.header("x-tollgate-route") ?? "-") | \(hard.header("x-tollgate-route") ?? "-")")
                #expect(mocks[0].provider.requestCount == 1)
                #expect(mocks[1].provider.requestCount == 1)
                // The upstream sees the served model's upstream name, never the alias.
                let seen = try await lastRequest(mocks[1])
                #expect((seen["body"] as? String)?.contains(#""model":"upstream-m1""#) == true)
            }
        }
    }

    @Test func threeTierRouterPicksTheTierWhoseBoundContainsTheScore() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults(), MockFaults()]) { mocks in
            // Only max_tokens counts (saturating at 8192), so each request's score is known in advance.
            let extra = """
                routing:
                  smart:
                    tiers: [{max_score: 0.3, model: m0}, {max_score: 0.7, model: m1}, {max_score: 1.0, model: m2}]
                    weights: {length: 0, questions: 0, instructions: 0, code: 0, math: 0, reasoning: 0, depth: 0, tools: 0, max_tokens: 1.0}

                """
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks, extra: extra)) { gw in
                let cases: [(maxTokens: Int, model: String, score: String)] = [
                    (100, "m0", "0.01"), (2457, "m0", "0.30"), (2540, "m1", "0.31"), (4096, "m1", "0.50"), (8192, "m2", "1.00"),
                ]
                for c in cases {
                    let reply = try await gw.chat(model: "smart", prompt: "hello", extra: #","max_tokens":\#(c.maxTokens)"#)
                    #expect(reply.status == 200)
                    #expect(reply.header("x-tollgate-route") == "smart;score=\(c.score);model=\(c.model)", "max_tokens \(c.maxTokens)")
                    #expect(reply.header("x-tollgate-model") == c.model)
                }
                #expect(mocks.map(\.provider.requestCount) == [2, 2, 1])
            }
        }
    }

    @Test func autoNeverServesATierModelTheTeamMayNotUse() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let extra = "routing:\n  auto: {simple: m0, complex: m1, threshold: 0.5}\n"
            let policy = GatewayHarness.policy(mocks: mocks, extra: extra, teamExtra: "    models: [auto, m0]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let direct = try await gw.chat(model: "m1", prompt: "hello")
                #expect(direct.status == 403 && direct.errorCode == "model_not_allowed")
                let hard = try await gw.chat(model: "auto", prompt: Self.hardPrompt)
                #expect(hard.status == 200)
                #expect(hard.header("x-tollgate-model") == "m0")
                #expect(Self.route(hard)?.2 == "m0")
                #expect(mocks[1].provider.requestCount == 0)
            }
        }
    }

    @Test func autoIsRefusedWhenNoTierModelIsAllowed() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults(), MockFaults()]) { mocks in
            let extra = "routing:\n  auto: {simple: m0, complex: m1, threshold: 0.5}\n"
            let policy = GatewayHarness.policy(mocks: mocks, extra: extra, teamExtra: "    models: [auto, m2]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let reply = try await gw.chat(model: "auto", prompt: "hi")
                #expect(reply.status == 403 && reply.errorCode == "model_not_allowed")
                #expect(mocks[0].provider.requestCount == 0 && mocks[1].provider.requestCount == 0)
            }
        }
    }

    @Test func aPlainAliasServesItsModelListsInModelsAndIsHeldToTheTeamsList() async throws {
        try await GatewayHarness.withMocks([MockFaults(), MockFaults()]) { mocks in
            let extra = "routing:\n  fast: m0\n  strong: m1\n"
            let policy = GatewayHarness.policy(mocks: mocks, extra: extra, teamExtra: "    models: [fast, m0, strong]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let reply = try await gw.chat(model: "fast", prompt: Self.hardPrompt)
                #expect(reply.status == 200)
                #expect(reply.header("x-tollgate-model") == "m0" && reply.header("x-tollgate-route") == "fast;model=m0")
                let seen = try await lastRequest(mocks[0])
                #expect((seen["body"] as? String)?.contains(#""model":"upstream-m0""#) == true)
                let models = try await gw.request("GET", "/v1/models")
                #expect(models.text.contains(#""id":"fast""#) && models.text.contains(#""id":"strong""#))
                // `strong` is listed, its model is not: the alias is no way around the team's list.
                let refused = try await gw.chat(model: "strong", prompt: "hi")
                #expect(refused.status == 403 && refused.errorCode == "model_not_allowed")
                #expect(mocks[1].provider.requestCount == 0)
            }
        }
    }
}
