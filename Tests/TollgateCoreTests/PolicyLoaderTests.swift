import Foundation
import Testing
import TollgateCore

struct PolicyLoaderTests {
    static let minimal = """
        version: 1
        providers:
          openai: {kind: openai, base_url: "https://api.example.test/v1/", api_key_env: OPENAI_API_KEY}
        models:
          small: {targets: [{provider: openai, model: gpt-4o-mini}]}
        teams:
          research: {rpm: 10, models: [small]}
        """

    /// What loading `text` reports; an empty list (and a recorded test issue) when it loads.
    func refusal(_ text: String, path: String = "p.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyIssue] {
        do {
            _ = try PolicyLoader.load(text: text, path: path)
            Issue.record("expected the policy to be refused", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues
        }
    }

    @Test func validPolicyLoadsWithDefaults() throws {
        let snapshot = try PolicyLoader.load(text: Self.minimal, path: "/etc/tollgate/p.yaml")
        #expect(snapshot.providers["openai"]?.baseURL == "https://api.example.test/v1")
        #expect(snapshot.models["small"]?.primaryTargets == [TargetSettings(provider: "openai", model: "gpt-4o-mini")])
        #expect(snapshot.teams["research"]?.rpm == 10)
        #expect(snapshot.circuitBreaker.failureThreshold == 5)
        #expect(snapshot.state.backend == .memory)
        #expect(snapshot.state.onUnavailable == .failClosed)
        #expect(snapshot.state.admission == .leased)
    }

    @Test func limitsBeyondWhatTheMathHoldsAreRefusedWithTheirLine() {
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "https://api.example.test/v1"}
            models:
              m: {targets: [{provider: openai, model: m}]}
            teams:
              t:
                rpm: 9000000000000000000
                tpm: 1000000000001
                budget: {tokens: 9000000000000000000, usd: 1e12}
            """
        let issues = refusal(text)
        for (line, field) in [(8, "teams.t.rpm"), (9, "teams.t.tpm"), (10, "teams.t.budget.tokens"), (10, "teams.t.budget.usd")] {
            #expect(issues.contains { $0.line == line && $0.message.contains(field) && $0.message.contains("at most") }, "\(field)")
        }
    }

    @Test func admissionModeIsLeasedOrExact() throws {
        let body = Self.minimal.dropFirst("version: 1\n".count)
        let exact = try PolicyLoader.load(text: "version: 1\nstate: {backend: redis, admission: exact}\n" + body, path: "p.yaml")
        #expect(exact.state.admission == .exact)
        let issues = refusal("version: 1\nstate: {admission: sometimes}\n" + body)
        #expect(issues.contains { $0.message.contains("state.admission") && $0.line == 2 })
    }

    @Test func redisBackendWithoutURLInTheFileIsAValidPolicy() throws {
        let text = "version: 1\nstate: {backend: redis}\n" + Self.minimal.dropFirst("version: 1\n".count)
        let snapshot = try PolicyLoader.load(text: text, path: "p.yaml")
        #expect(snapshot.state.backend == .redis)
        #expect(snapshot.state.url == nil)
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "ftp://nope"}
            models:
              small: {targets: [{provider: missing, model: x}]}
            teams:
              research: {rpm: -1, models: [ghost], colour: blue}
            """
        let issues = refusal(text)
        let lines = issues.map(\.description)
        #expect(lines.contains { $0.hasPrefix("p.yaml:3: ") && $0.contains("base_url") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:5: ") && $0.contains("unknown provider `missing`") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:7: ") && $0.contains("rpm") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:7: ") && $0.contains("unknown model `ghost`") })
        #expect(lines.contains { $0.hasPrefix("p.yaml:7: ") && $0.contains("colour") })
    }

    @Test(arguments: [
        ("variants:\n      - {weight: 0, targets: [{provider: openai, model: a}]}\n      - {weight: 0, targets: [{provider: openai, model: b}]}", "weights sum to 0"),
        ("targets: []", "at least one target"),
    ])
    func invalidModelsAreRefused(body: String, message: String) {
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "https://api.example.test/v1"}
            models:
              m:
                \(body)
            """
        let issues = refusal(text)
        #expect(issues.contains { $0.message.contains(message) })
    }

    @Test func routingNeedsThresholdAndKnownModels() {
        let text = Self.minimal + "\nrouting:\n  auto: {simple: small, complex: huge}\n"
        let issues = refusal(text)
        #expect(issues.contains { $0.message.contains("missing threshold") })
        #expect(issues.contains { $0.message.contains("unknown model `huge`") })
    }

    @Test func providerCAFileResolvesAgainstThePolicyFolderAndNeedsHTTPS() throws {
        let text = Self.minimal.replacingOccurrences(of: "api_key_env: OPENAI_API_KEY}", with: "api_key_env: OPENAI_API_KEY, ca_file: certs/ca.pem}")
        let snapshot = try PolicyLoader.load(text: text, path: "/etc/tollgate/p.yaml")
        #expect(snapshot.providers["openai"]?.caFile == "/etc/tollgate/certs/ca.pem")

        let cleartext = text.replacingOccurrences(of: "https://api.example.test", with: "http://api.example.test")
        let issues = refusal(cleartext)
        #expect(issues.map(\.description) == ["p.yaml:3: providers.openai.ca_file only applies to https:// providers"])
    }

    @Test func relativePathsResolveAgainstThePolicyFolder() throws {
        let text = Self.minimal + "\nscreening:\n  injection: {action: block, packs: [packs/injection.yaml]}\naudit: {path: audit/audit.jsonl}\n"
        let snapshot = try PolicyLoader.load(text: text, path: "/srv/policies/tollgate.yaml")
        #expect(snapshot.screening.injectionPacks == ["/srv/policies/packs/injection.yaml"])
        #expect(snapshot.audit.path == "/srv/policies/audit/audit.jsonl")
    }

    @Test func invalidYAMLNamesItsLine() {
        let issues = refusal("version: 1\nproviders: [\n  a: b\n", path: "bad.yaml")
        #expect(issues.first?.description.hasPrefix("bad.yaml:") == true)
    }

    @Test func plaintextKeysInThePolicyAreRefused() {
        let text = Self.minimal.replacingOccurrences(of: "models: [small]}", with: "models: [small], keys: [sk-tg-plaintext]}")
        let issues = refusal(text)
        #expect(issues.contains { $0.message.contains("SHA-256") })
    }
}

/// Valid policies that probably do not do what their author meant are named, not refused.
struct PolicyWarningsTests {
    @Test func aDollarBudgetOverAModelWithoutPriceIsNamedThroughTheRouter() throws {
        let text = """
            version: 1
            providers:
              openai: {kind: openai, base_url: "https://api.example.test/v1"}
            models:
              small: {targets: [{provider: openai, model: a}], price: {input_per_1m: 0.1, output_per_1m: 0.2}}
              large: {targets: [{provider: openai, model: b}]}
              spare: {targets: [{provider: openai, model: c}]}
            routing:
              auto: {simple: small, complex: large, threshold: 0.5}
            teams:
              research: {budget: {usd: 100}, models: [auto]}
              tokens-only: {budget: {tokens: 1000}, models: [large]}
              priced: {budget: {usd: 5}, models: [small]}
            """
        let warnings = PolicyWarnings.all(try PolicyLoader.load(text: text, path: "p.yaml"))
        #expect(warnings == ["teams.research.budget.usd: large has no price, so its requests cost $0 against this budget"])
    }
}
