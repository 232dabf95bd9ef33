import Foundation
import Testing

/// `tollgate policy check` (the built binary) refuses invalid routing with `file:line: message` and exit 1.
@Suite(.serialized) struct RoutingPolicyCheckTests {
    /// What `tollgate policy check` said about `text` written to DIR/NAME: exit status and stderr lines.
    struct Check {
        let path: String
        let status: Int32
        let lines: [String]

        /// Whether a line names `line` of the file and says `message`.
        func reports(_ message: String, at line: Int) -> Bool {
            lines.contains { $0.hasPrefix("\(path):\(line): ") && $0.contains(message) }
        }
    }

    static func check(_ text: String, named name: String, in dir: String) async throws -> Check {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await TollgateExecutable.run(["policy", "check", path])
        return Check(path: path, status: result.status, lines: result.stderr.split(separator: "\n").map(String.init))
    }

    @Test func policyCheckRefusesZeroWeightsUnknownTierModelAndMissingThreshold() async throws {
        let dir = try GatewayHarness.temporaryDirectory()
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "https://api.example.test/v1", api_key_env: OPENAI_API_KEY}
            models:
              small: {targets: [{provider: openai, model: a}]}
              split:
                variants:
                  - {name: stable, weight: 0, targets: [{provider: openai, model: b}]}
                  - {name: next, weight: 0, targets: [{provider: openai, model: c}]}
            routing:
              auto: {simple: small, complex: split}
              smart:
                tiers:
                  - {max_score: 0.5, model: small}
                  - {max_score: 1.0, model: ghost}
            teams:
              research: {rpm: 10}

            """
        let bad = try await Self.check(text, named: "bad.yaml", in: dir)
        #expect(bad.status == 1)
        #expect(bad.reports("weights sum to 0", at: 8), "\(bad.lines)")
        #expect(bad.reports("missing threshold", at: 11), "\(bad.lines)")
        #expect(bad.reports("unknown model `ghost`", at: 15), "\(bad.lines)")

        let fixed = text.replacingOccurrences(of: "weight: 0, targets: [{provider: openai, model: b}]", with: "weight: 9, targets: [{provider: openai, model: b}]")
            .replacingOccurrences(of: "complex: split}", with: "complex: split, threshold: 0.5}")
            .replacingOccurrences(of: "model: ghost", with: "model: split")
        let good = try await Self.check(fixed, named: "good.yaml", in: dir)
        #expect(good.status == 0, "\(good.lines)")
    }

    @Test func policyCheckRefusesAnAliasOfAnUnknownModelAndAnAutoThatIsOnlyAnAlias() async throws {
        let dir = try GatewayHarness.temporaryDirectory()
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "https://api.example.test/v1", api_key_env: OPENAI_API_KEY}
            models:
              small: {targets: [{provider: openai, model: a}]}
            routing:
              fast: small
              typo: smal
              auto: small
            teams:
              research: {models: [fast, typo]}

            """
        let result = try await Self.check(text, named: "aliases.yaml", in: dir)
        #expect(result.status == 1)
        #expect(result.reports("unknown model `smal`", at: 8), "\(result.lines)")
        #expect(result.reports("`auto` is the complexity router", at: 9), "\(result.lines)")
        #expect(!result.reports("", at: 7), "\(result.lines)")
    }
}
