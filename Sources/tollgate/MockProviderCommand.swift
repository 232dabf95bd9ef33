import ArgumentParser
import Hummingbird
import Logging
import TollgateServer

/// `tollgate mock-provider`: an OpenAI-compatible fake upstream with fault injection.
struct MockProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-provider",
        abstract: "Run an OpenAI-compatible fake provider for demos and tests.",
        discussion: """
            Faults can also be set per request with x-mock-* headers (x-mock-status, x-mock-latency-ms, \
            x-mock-chunk-delay-ms, x-mock-stall-after-chunks, x-mock-stall-ms, x-mock-reset-after-chunks, \
            x-mock-retry-after, x-mock-reply), with a "mock" object in the JSON body, or at runtime with \
            POST /mock/faults.
            """)

    @Option(help: "Port to listen on.") var port: Int = 9001
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Answer with this status instead of 200.") var status: Int?
    @Option(name: .customLong("error-rate"), help: "Fraction of requests that fail (with --status, default 500).") var errorRate: Double = 0
    @Option(name: .customLong("latency-ms"), help: "Delay before answering.") var latencyMs: Int = 0
    @Option(name: .customLong("chunk-delay-ms"), help: "Delay between streamed chunks.") var chunkDelayMs: Int = 0
    @Option(name: .customLong("stall-after-chunks"), help: "Stop streaming after N chunks for --stall-ms.") var stallAfterChunks: Int?
    @Option(name: .customLong("stall-ms"), help: "How long a stall lasts.") var stallMs: Int = 60_000
    @Option(name: .customLong("reset-after-chunks"), help: "Drop the connection after N streamed chunks.") var resetAfterChunks: Int?
    @Option(name: .customLong("retry-after"), help: "Retry-After seconds sent with error statuses.") var retryAfter: Int?

    func run() async throws {
        let faults = MockFaults(
            status: status, errorRate: errorRate, latencyMs: latencyMs, chunkDelayMs: chunkDelayMs,
            stallAfterChunks: stallAfterChunks, stallMs: stallMs, resetAfterChunks: resetAfterChunks, retryAfterSeconds: retryAfter)
        GatewayLogHandler.bootstrap()
        var logger = Logger(label: "tollgate.mock-provider")
        logger.logLevel = .info
        let host = self.host
        let startupLogger = logger
        let app = MockProvider(host: host, port: port, faults: faults).makeApplication(logger: logger) { port in
            startupLogger.info("mock provider listening", metadata: ["address": .string("\(host):\(port)")])
        }
        try await app.runService()
    }
}
