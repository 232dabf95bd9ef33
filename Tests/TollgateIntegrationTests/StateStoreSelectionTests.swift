import Foundation
import Logging
import Testing
import TollgateCore
@testable import TollgateServer

/// `state: {backend: redis}` may leave the URL to `--redis` / TOLLGATE_REDIS_URL, but never to nobody.
struct StateStoreSelectionTests {
    static let policy = """
        version: 1
        state: {backend: redis}
        providers:
          p: {kind: openai, base_url: "http://127.0.0.1:9/v1"}
        models:
          m: {targets: [{provider: p, model: m}]}
        teams:
          t: {rpm: 10}
        """

    @Test func redisBackendWithNoURLAnywhereStopsStartupNamingTheWaysToGiveOne() throws {
        let snapshot = try PolicyLoader.load(text: Self.policy, path: "p.yaml")
        let configuration = GatewayConfiguration(policyPath: "p.yaml", redisURL: nil)
        #expect {
            _ = try StateStoreFactory.make(configuration: configuration, policy: snapshot, logger: Logger(label: "test"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("--redis") && text.contains("TOLLGATE_REDIS_URL") && text.contains("state.url")
        }
    }

    @Test func redisBackendTakesTheURLFromTheFlag() throws {
        let snapshot = try PolicyLoader.load(text: Self.policy, path: "p.yaml")
        let configuration = GatewayConfiguration(policyPath: "p.yaml", redisURL: "redis://127.0.0.1:1")
        let store = try StateStoreFactory.make(configuration: configuration, policy: snapshot, logger: Logger(label: "test"))
        #expect(String(describing: type(of: store)).contains("Redis"))
    }
}
