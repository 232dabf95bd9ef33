import Foundation
import Testing

/// `tollgate policy check` (the built binary) refuses invalid routing with `file:line: message` and exit 1.
@Suite(.serialized) struct RoutingPolicyCheckTests {
    @Test func policyCheckRefusesZeroWeightsUnknownTierModelAndMissingThreshold() async throws {
        let dir = try GatewayHarness.temporaryDirectory()
        let path = dir + "/bad.yaml"
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
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await TollgateExecutable.run(["policy", "check", path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(path):8: ") && $0.contains("weights sum to 0") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):11: ") && $0.contains("missing threshold") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):15: ") && $0.contains("unknown model `ghost`") }, "\(lines)")

        let good = dir + "/good.yaml"
        try text.replacingOccurrences(of: "weight: 0, targets: [{provider: openai, model: b}]", with: "weight: 9, targets: [{provider: openai, model: b}]")
            .replacingOccurrences(of: "complex: split}", with: "complex: split, threshold: 0.5}")
            .replacingOccurrences(of: "model: ghost", with: "model: split")
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await TollgateExecutable.run(["policy", "check", good])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func policyCheckRefusesAnAliasOfAnUnknownModelAndAnAutoThatIsOnlyAnAlias() async throws {
        let dir = try GatewayHarness.temporaryDirectory()
        let path = dir + "/aliases.yaml"
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
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await TollgateExecutable.run(["policy", "check", path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(path):8: ") && $0.contains("unknown model `smal`") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):9: ") && $0.contains("`auto` is the complexity router") }, "\(lines)")
        #expect(!lines.contains { $0.contains(":7: ") }, "\(lines)")
    }
}
