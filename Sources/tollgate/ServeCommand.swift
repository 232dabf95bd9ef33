import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TollgateServer
import UnixSignals

/// `tollgate serve`: runs the gateway until SIGTERM, then drains and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the gateway.")

    @Option(help: "Policy file (env TOLLGATE_CONFIG).") var config: String?
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080
    @Option(help: "Redis URL for shared state (env TOLLGATE_REDIS_URL); embedded store when absent.") var redis: String?
    @Option(name: .customLong("data-dir"), help: "Where the embedded store persists keys, budgets and usage.") var dataDir: String = "./data"
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for TLS termination.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for TLS termination.") var tlsKey: String?
    @Option(name: .customLong("with-mock-provider"), help: "Also run the built-in mock provider on this port (demo mode).")
    var mockPort: Int?
    /// One thread measured cheaper than two on the 2-core reference machine (about 100 vs 107 µs
    /// of CPU per proxied request at 64 connections, fewer context switches): a single multi
    /// handle batches more transfers per wake-up. More help when TLS handshakes dominate.
    @Option(name: .customLong("upstream-threads"), help: "Threads driving libcurl transfers.") var upstreamThreads: Int = 1
    @Option(name: .customLong("io-threads"), help: "NIO event loops serving client connections (default: half the cores, at least 1).")
    var ioThreads: Int?
    /// Long enough for any real answer (reasoning models can take minutes), short enough that a
    /// request stuck on something that never answers cannot keep a stopping replica alive forever.
    @Option(
        name: .customLong("drain-timeout"),
        help: "Seconds SIGTERM waits for in-flight requests and streams before cancelling them (then 10 s more at most).")
    var drainTimeout: Int = 600

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if drainTimeout < 1 { throw ValidationError("--drain-timeout must be at least 1 second") }
    }

    func run() async throws {
        GatewayLogHandler.bootstrap()
        let env = ProcessInfo.processInfo.environment
        var logger = Logger(label: "tollgate")
        logger.logLevel = env["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration = GatewayConfiguration(
            policyPath: config ?? env["TOLLGATE_CONFIG"] ?? "policies/tollgate.yaml",
            host: host, port: port, dataDirectory: dataDir,
            redisURL: redis ?? env["TOLLGATE_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 },
            adminToken: env["TOLLGATE_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
            tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey, upstreamThreads: upstreamThreads,
            ioThreads: ioThreads)
        let server: GatewayServer
        do {
            server = try GatewayServer(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("tollgate: cannot start:\n\(error)\n".utf8))
            throw ExitCode(1)
        }
        var extra: [any Service] = []
        if let mockPort {
            let mock = MockProvider(port: mockPort)
            extra.append(mock.makeApplication(logger: Logger(label: "tollgate.mock-provider")))
        }
        let host = self.host
        let startupLogger = logger
        let app = try server.makeApplication(extraServices: extra) { port in
            startupLogger.info("tollgate listening", metadata: ["address": .string("\(host):\(port)")])
        }
        // What `app.runService()` does, plus a bound: after `drainTimeout` the remaining requests are
        // cancelled (streams end, provider calls are aborted); a task that ignores cancellation for
        // 10 s more ends the process (ServiceLifecycle's fatalError) rather than leave it hanging.
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(drainTimeout)
        group.maximumCancellationDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }
}
