import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TollgateServer
import TollgateUpstream

/// A mock provider running in-process on an ephemeral port.
struct RunningMock: Sendable {
    let provider: MockProvider
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
}

/// A gateway running in-process on an ephemeral port, with the client used to call it.
struct RunningGateway: Sendable {
    let port: Int
    let client: CurlClient
    let policyPath: String
    var baseURL: String { "http://127.0.0.1:\(port)" }
}

/// Starts real servers (real sockets, real HTTP) for a test and tears them down after it.
enum GatewayHarness {
    static let demoKey = "sk-tg-demo-key-for-local-use-only-0000"
    static let demoKeyHash = "c0cd84a287cb0e59c2493973543e0fa51be74252957e9efcf16acb545dd45204"

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with `count` mock providers, each with its own faults.
    static func withMocks<T: Sendable>(_ faults: [MockFaults], _ body: @Sendable ([RunningMock]) async throws -> T) async throws -> T {
        var apps: [any Service] = []
        var streams: [AsyncStream<Int>] = []
        var providers: [MockProvider] = []
        for fault in faults {
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            let provider = MockProvider(port: 0, faults: fault)
            apps.append(provider.makeApplication(logger: quietLogger) { port in
                continuation.yield(port)
                continuation.finish()
            })
            streams.append(stream)
            providers.append(provider)
        }
        return try await running(apps) {
            var mocks: [RunningMock] = []
            for (provider, stream) in zip(providers, streams) {
                var iterator = stream.makeAsyncIterator()
                guard let port = await iterator.next() else { throw HarnessError.didNotStart }
                mocks.append(RunningMock(provider: provider, port: port))
            }
            return try await body(mocks)
        }
    }

    /// Runs `services` in a service group for the duration of `body`, then shuts them down
    /// gracefully whether `body` succeeded or threw.
    static func running<T: Sendable>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: services, logger: quietLogger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Writes `policy` to a fresh directory and runs a gateway on it for the duration of `body`.
    static func withGateway<T: Sendable>(
        policy: String, adminToken: String? = "test-admin-token", redisURL: String? = nil, dataDirectory: String? = nil,
        clientIdleTimeout: Duration? = nil,
        _ body: @Sendable (RunningGateway) async throws -> T
    ) async throws -> T {
        let dir = try temporaryDirectory()
        let policyPath = dir + "/tollgate.yaml"
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration(
            policyPath: policyPath, host: "127.0.0.1", port: 0, dataDirectory: dataDirectory ?? dir + "/data",
            redisURL: redisURL, adminToken: adminToken)
        if let clientIdleTimeout { configuration.clientIdleTimeout = clientIdleTimeout }
        let server = try GatewayServer(configuration: configuration, logger: quietLogger)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = try server.makeApplication { port in
            continuation.yield(port)
            continuation.finish()
        }
        let client = CurlClient()
        defer { client.shutdown() }
        return try await running([app]) {
            var iterator = stream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw HarnessError.didNotStart }
            return try await body(RunningGateway(port: port, client: client, policyPath: policyPath))
        }
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "tollgate-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A one-team policy over the given mocks: model `m<i>` targets mock i; `chain` targets all in order.
    static func policy(mocks: [RunningMock], extra: String = "", teamExtra: String = "", timeout: String = "{connect_ms: 500, first_byte_ms: 2000, total_ms: 10000, idle_ms: 2000}") -> String {
        var text = "version: 1\nproviders:\n"
        for (i, mock) in mocks.enumerated() {
            text += "  p\(i): {kind: openai, base_url: \"\(mock.baseURL)\", api_key_env: TOLLGATE_TEST_PROVIDER_KEY, timeout: \(timeout)}\n"
        }
        text += "models:\n"
        for i in mocks.indices {
            text += "  m\(i): {targets: [{provider: p\(i), model: upstream-m\(i)}]}\n"
        }
        text += "  chain: {targets: [" + mocks.indices.map { "{provider: p\($0), model: upstream-chain-\($0)}" }.joined(separator: ", ") + "]}\n"
        text += extra
        text += "teams:\n  t1:\n    keys: [\(demoKeyHash)]\n" + teamExtra
        return text
    }

    enum HarnessError: Error { case didNotStart }
}

/// Minimal HTTP calls for tests, over the same libcurl client the gateway uses.
extension RunningGateway {
    struct Reply: Sendable {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    }

    func request(_ method: String, _ path: String, body: String? = nil, key: String? = GatewayHarness.demoKey,
                 headers: [(String, String)] = []) async throws -> Reply {
        let response = try await open(method, path, body: body, key: key, headers: headers)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: response.status, headers: response.headers, body: bytes)
    }

    func open(_ method: String, _ path: String, body: String? = nil, key: String? = GatewayHarness.demoKey,
              headers: [(String, String)] = []) async throws -> UpstreamResponse {
        var all = headers
        if body != nil { all.append(("content-type", "application/json")) }
        if let key { all.append(("authorization", "Bearer \(key)")) }
        let request = UpstreamRequest(
            method: method, url: baseURL + path, headers: all, body: Array((body ?? "").utf8),
            timeouts: UpstreamTimeouts(connect: .seconds(2), firstByte: .seconds(20), total: .seconds(60), idle: .seconds(20)))
        return try await client.execute(request)
    }

    func chat(_ model: String = "m0", content: String = "Hello there", stream: Bool = false, extra: String = "", key: String? = GatewayHarness.demoKey) async throws -> Reply {
        let body = #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(content)"}],"stream":\#(stream)\#(extra)}"#
        return try await request("POST", "/v1/chat/completions", body: body, key: key)
    }
}
