import Testing
import TollgateCore

/// `tollgate policy check` refuses bad routing and canary configuration with `file:line: message`.
struct PolicyRoutingValidationTests {
    /// Lines 1-6 of every policy below; the tested section starts on line 7.
    static let head = """
        version: 1
        providers:
          openai: {kind: openai, base_url: "https://api.example.test/v1"}
        models:
          small: {targets: [{provider: openai, model: a}]}
          big: {targets: [{provider: openai, model: b}]}

        """
    static let tail = "\nteams:\n  research: {rpm: 10}\n"

    static func issues(_ section: String) -> [String] {
        do {
            _ = try PolicyLoader.load(text: head + section + tail, path: "routing.yaml")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func variantWeightsSummingToZeroAreRefusedAtTheVariantsList() {
        let lines = Self.issues("""
              canary:
                variants:
                  - {name: stable, weight: 0, targets: [{provider: openai, model: c}]}
                  - {name: next, weight: 0, targets: [{provider: openai, model: d}]}
            """)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("routing.yaml:9: ") == true, "\(lines)")
        #expect(lines.first?.contains("weights sum to 0") == true)
    }

    @Test func negativeVariantWeightIsRefusedOnItsLine() {
        let lines = Self.issues("""
              canary:
                variants:
                  - {name: stable, weight: 10, targets: [{provider: openai, model: c}]}
                  - {name: next, weight: -1, targets: [{provider: openai, model: d}]}
            """)
        #expect(lines.contains { $0.hasPrefix("routing.yaml:10: ") && $0.contains("weight") }, "\(lines)")
    }

    @Test func unknownModelInATierIsRefusedOnThatTiersLine() {
        let lines = Self.issues("""
            routing:
              smart:
                tiers:
                  - {max_score: 0.4, model: small}
                  - {max_score: 1.0, model: ghost}
            """)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("routing.yaml:11: ") == true, "\(lines)")
        #expect(lines.first?.contains("unknown model `ghost`") == true)
    }

    @Test func routerWithoutThresholdIsRefusedOnItsLine() {
        let lines = Self.issues("""
            routing:
              auto: {simple: small, complex: big}
            """)
        #expect(lines == ["routing.yaml:8: routing.auto is missing threshold"])
    }

    @Test func unknownSimpleOrComplexModelIsRefused() {
        let lines = Self.issues("""
            routing:
              auto:
                simple: small
                complex: huge
                threshold: 0.5
            """)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("routing.yaml:10: ") == true && lines.first?.contains("unknown model `huge`") == true, "\(lines)")
    }

    @Test(arguments: [
        ("  auto: {simple: small, complex: big, threshold: 1.5}", "threshold must be between 0 and 1"),
        ("  auto: {simple: small, complex: big, threshold: -0.1}", "threshold"),
        ("  auto: {simple: small, complex: big, threshold: 0.5, weights: {length: 0, questions: 0, instructions: 0, code: 0, math: 0, reasoning: 0, depth: 0, tools: 0, max_tokens: 0}}", "weights sum to 0"),
        ("  auto: {simple: small, complex: big, threshold: 0.5, weights: {vibes: 0.3}}", "unknown feature `vibes`"),
        ("  auto: {tiers: [{max_score: 0.8, model: small}, {max_score: 0.4, model: big}]}", "ascending max_score"),
        ("  auto: {tiers: []}", "at least one tier"),
        ("  small: {simple: small, complex: big, threshold: 0.5}", "same name as a model"),
    ])
    func badRouterSettingsAreRefusedOnTheRoutersLine(router: String, message: String) {
        let lines = Self.issues("routing:\n" + router)
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("routing.yaml:8: ") }, "\(lines)")
        #expect(lines.contains { $0.contains(message) }, "\(lines)")
    }

    @Test func validRoutingAndCanaryPolicyLoads() throws {
        let text = Self.head + """
              canary:
                sticky: user
                degrade_to: small
                variants:
                  - {name: stable, weight: 90, targets: [{provider: openai, model: c}]}
                  - {name: next, weight: 10, targets: [{provider: openai, model: d}], rollback: {max_error_rate: 0.2, min_requests: 10, window_s: 30}}
            routing:
              auto: {simple: small, complex: big, threshold: 0.5}
              smart: {tiers: [{max_score: 0.3, model: small}, {max_score: 0.7, model: canary}, {max_score: 1.0, model: big}]}
            teams:
              research: {rpm: 10, models: [auto, smart, small]}
            """
        let snapshot = try PolicyLoader.load(text: text, path: "routing.yaml")
        #expect(snapshot.routers["smart"]?.tiers.map(\.model) == ["small", "canary", "big"])
        #expect(snapshot.routers["auto"]?.tiers.map(\.maxScore) == [0.5, 1.0])
        #expect(snapshot.models["canary"]?.variants.map(\.weight) == [90, 10])
        #expect(snapshot.models["canary"]?.variants[1].rollback?.minRequests == 10)
        #expect(snapshot.models["canary"]?.sticky == .user)
        #expect(snapshot.models["canary"]?.degradeTo == "small")
    }

    @Test func turningOneFeatureOffIsNotAZeroWeightSum() throws {
        let text = Self.head + "routing:\n  auto: {simple: small, complex: big, threshold: 0.5, weights: {length: 0, code: 0}}" + Self.tail
        let snapshot = try PolicyLoader.load(text: text, path: "routing.yaml")
        #expect(snapshot.routers["auto"]?.weights["length"] == 0)
    }

    @Test func degradeToAnUnknownModelIsRefused() {
        let lines = Self.issues("""
              canary:
                targets: [{provider: openai, model: c}]
                degrade_to: nowhere
            """)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("degrade_to names unknown model `nowhere`") == true, "\(lines)")
    }
}
