import Foundation
import Testing

/// `tollgate policy check` (the built binary) refuses invalid routing with `file:line: message` and exit 1.
@Suite(.serialized) struct RoutingPolicyCheckTests {
    /// The `tollgate` executable next to the test bundle (`swift build --build-tests` builds both).
    static func binary() -> String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("tollgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static func run(_ binary: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func policyCheckRefusesZeroWeightsUnknownTierModelAndMissingThreshold() throws {
        let binary = try #require(Self.binary(), "build the tollgate executable first (swift build --build-tests)")
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
        let result = try Self.run(binary, ["policy", "check", path])
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
        let ok = try Self.run(binary, ["policy", "check", good])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test func policyCheckRefusesAnAliasOfAnUnknownModelAndAnAutoThatIsOnlyAnAlias() throws {
        let binary = try #require(Self.binary(), "build the tollgate executable first (swift build --build-tests)")
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
        let result = try Self.run(binary, ["policy", "check", path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(path):8: ") && $0.contains("unknown model `smal`") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):9: ") && $0.contains("`auto` is the complexity router") }, "\(lines)")
        #expect(!lines.contains { $0.contains(":7: ") }, "\(lines)")
    }
}
