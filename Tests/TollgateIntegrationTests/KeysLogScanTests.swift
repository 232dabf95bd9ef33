import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TollgateServer
import TollgateUpstream

/// Every log line the gateway emits at trace level, with its metadata, kept in memory.
final class CapturingLogSink: Sendable {
    private let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
    var count: Int { lines.withLock { $0.count } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }

    func logger(label: String = "tollgate") -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, sink: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let label: String
        let sink: CapturingLogSink
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            if let extra = event.metadata { all.merge(extra) { _, new in new } }
            sink.append("\(event.level) \(label) \(event.message) \(all) \(event.source) \(event.file):\(event.line)")
        }
    }
}

/// No secret (client key, admin token) reaches a log line, whatever the request does.
@Suite(.serialized) struct KeysLogScanTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func noLogLineContainsAClientKeyOrTheAdminToken() async throws {
        let sink = CapturingLogSink()
        let adminToken = "admin-token-that-must-never-be-logged-12345"
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let dir = try GatewayHarness.temporaryDirectory()
            let policyPath = dir + "/tollgate.yaml"
            try GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 1000\n").write(toFile: policyPath, atomically: true, encoding: .utf8)
            let server = try GatewayServer(
                configuration: GatewayConfiguration(policyPath: policyPath, host: "127.0.0.1", port: 0, dataDirectory: dir + "/data", adminToken: adminToken),
                logger: sink.logger())
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            let app = try server.makeApplication { port in
                continuation.yield(port)
                continuation.finish()
            }
            let group = ServiceGroup(configuration: .init(services: [app], logger: sink.logger(label: "lifecycle")))
            let client = CurlClient()
            defer { client.shutdown() }
            let secrets: [String] = try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = stream.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let gw = RunningGateway(port: port, client: client, policyPath: policyPath)
                var secrets: [String] = []
                for _ in 0..<3 {
                    let key = try await gw.issueKey(token: adminToken)
                    secrets.append(key.secret)
                    #expect(try await gw.chat("m0", key: key.secret).status == 200)
                    #expect(try await gw.chat("m0", stream: true, key: key.secret).status == 200)
                    #expect(try await gw.chat("nope", key: key.secret).status == 404)
                    #expect(try await gw.admin("DELETE", "/admin/keys/\(key.id)", token: adminToken).status == 200)
                    #expect(try await gw.chat("m0", key: key.secret).status == 401)
                }
                let unknown = "sk-tg-" + String(repeating: "Q", count: 40)
                secrets.append(unknown)
                #expect(try await gw.chat("m0", key: unknown).status == 401)
                #expect(try await gw.admin("GET", "/admin/keys", token: secrets[0]).status == 403)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return secrets
            }
            let text = sink.text
            #expect(sink.count > 0, "captured no log lines: the scan would prove nothing")
            #expect(!text.contains(adminToken), "the admin token reached a log line")
            #expect(!text.contains(ProviderKeyEnvironment.value), "the provider key reached a log line")
            for secret in secrets {
                #expect(!text.contains(secret), "a client key reached a log line")
                #expect(!text.contains(String(secret.dropFirst(6).prefix(20))), "part of a client key reached a log line")
            }
        }
    }
}
