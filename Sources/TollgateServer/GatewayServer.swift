import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import ServiceLifecycle
import TollgateCore
import TollgateStore
import TollgateUpstream

/// Everything `tollgate serve` can be told, after flags, environment and defaults merge.
public struct GatewayConfiguration: Sendable {
    public var policyPath: String
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var redisURL: String?
    public var adminToken: String?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var upstreamThreads: Int
    /// NIO event loops accepting and serving client connections; nil picks half the cores.
    public var ioThreads: Int?
    /// How long a client connection may sit without a request in flight (before its first
    /// request, or between keep-alive requests) before it is closed; a request or a long stream
    /// in progress is never cut by it. nginx's keep-alive default.
    public var clientIdleTimeout: Duration = .seconds(75)

    public init(
        policyPath: String, host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String = "./data",
        redisURL: String? = nil, adminToken: String? = nil, tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil,
        upstreamThreads: Int = 1, ioThreads: Int? = nil
    ) {
        self.policyPath = policyPath
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.redisURL = redisURL
        self.adminToken = adminToken
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.upstreamThreads = upstreamThreads
        self.ioThreads = ioThreads
    }
}

/// Builds the gateway application: loads the policy, wires stages and routes.
public struct GatewayServer: Sendable {
    public let configuration: GatewayConfiguration
    let holder: PolicyHolder
    let client: CurlClient
    let metrics: GatewayMetrics
    let logger: Logger
    let store: any StateStore
    let resilience: ResilienceRuntime
    /// The audit trail named by the policy at startup (a reload does not move it).
    let auditTrail: AuditTrail?

    /// Loads and validates the policy; a bad policy stops startup with every problem listed.
    public init(configuration: GatewayConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let initial = try PolicyFileLoader.load(path: configuration.policyPath, generation: 1)
        self.holder = PolicyHolder(initial: initial, path: configuration.policyPath)
        self.client = CurlClient(threads: configuration.upstreamThreads)
        let metrics = GatewayMetrics()
        self.metrics = metrics
        self.store = try StateStoreFactory.make(configuration: configuration, policy: initial.snapshot, logger: logger)
        self.resilience = ResilienceRuntime(metrics: metrics, logger: logger, config: initial.snapshot.circuitBreaker)
        self.auditTrail = try initial.snapshot.audit.path.map {
            try AuditTrail(path: $0, fsync: initial.snapshot.audit.fsync, logger: logger) { reason, records in
                metrics.count("audit_records_lost", labels: [("reason", reason)], by: Int64(records))
            }
        }
        for warning in PolicyWarnings.all(initial.snapshot) { logger.warning("policy: \(warning)") }
        for provider in ProviderKeys.missing(in: initial.snapshot) {
            logger.warning("provider key variable is not set; requests to it go without a key", metadata: ["provider": .string(provider)])
        }
    }

    /// Builds the Hummingbird application; `onServerRunning` reports the bound port.
    public func makeApplication(extraServices: [any Service] = [], onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        throws -> Application<RouterResponder<GatewayRequestContext>>
    {
        let router = Router(context: GatewayRequestContext.self)
        router.middlewares.add(ErrorMiddleware(metrics: metrics))
        let authenticator = StoreAuthenticator(store: store)
        let planner = RoutePlanner()
        let settler = UsageSettler(store: store, metrics: metrics)
        let leases = store.admitsRemotely ? AdmissionLeases(store: store, settler: settler, metrics: metrics) : nil
        let auditRecorder = AuditRecorder(trail: auditTrail)
        let proxy = ProxyHandler(
            policies: holder, authenticator: authenticator,
            forwarder: Forwarder(transport: client, resilience: resilience, planner: planner),
            planner: planner, admission: AdmissionGate(store: store, metrics: metrics, settler: settler, leases: leases), metrics: metrics, audit: auditRecorder,
            responses: ResponseCacheStage(cache: (store as? any ResponseCache) ?? MemoryResponseCache(), metrics: metrics))
        router.post("/v1/chat/completions") { request, context in try await proxy.chatCompletions(request, context: context) }
        router.post("/v1/embeddings") { request, context in try await proxy.embeddings(request, context: context) }
        router.get("/v1/models") { request, context in try await proxy.models(request, context: context) }
        router.get("/v1/models/:id") { request, context in try await proxy.model(request, context: context) }
        let client = self.client
        let metrics = self.metrics
        let store = self.store
        let resilience = self.resilience
        let holder = self.holder
        let ops = OperationsHandler(
            holder: holder, metrics: metrics,
            gauges: {
                metrics.gauge("upstream_active_transfers", value: Double(client.activeTransfers))
                StatusReport.exportGauges(metrics: metrics, resilience: resilience, policy: holder.policy)
            },
            readinessChecks: [{ await store.ping() ? nil : "state store unreachable" }])
        let admin = AdminHandler(
            holder: holder, store: store, settler: settler, adminToken: configuration.adminToken, audit: auditRecorder,
            onRevoke: { hash in authenticator.invalidate(.key(hash: hash)) })
        router.post("/admin/keys") { request, context in try await admin.createKey(request, context: context) }
        router.get("/admin/keys") { request, context in try await admin.listKeys(request, context: context) }
        router.delete("/admin/keys/:id") { request, context in try await admin.revokeKey(request, context: context) }
        router.get("/admin/usage") { request, context in try await admin.usage(request, context: context) }
        router.get("/healthz") { _, _ in ops.health() }
        router.get("/readyz") { _, _ in await ops.ready() }
        // Load balancers that probe with HEAD (HAProxy `option httpchk HEAD`, some uptime checkers)
        // get the same status without a body.
        router.head("/healthz") { _, _ in OperationsHandler.headOnly(ops.health()) }
        router.head("/readyz") { _, _ in OperationsHandler.headOnly(await ops.ready()) }
        router.get("/metrics") { _, _ in ops.metricsResponse() }
        router.get("/admin/status") { request, _ in
            try ops.status(
                request, adminToken: configuration.adminToken,
                extra: StatusReport.members(resilience: resilience, policy: holder.policy) + StatusReport.members(store: store, leases: leases, policy: holder.policy))
        }

        var reloader = PolicyReloader(holder: holder, logger: logger)
        reloader.onReload = { runtime in resilience.apply(runtime.snapshot) }
        // Shut down in reverse: the server drains first, the store closes last.
        var services: [any Service] = [
            StateStoreService(store: store), UsageSettlerService(settler: settler), UpstreamClientService(client: client), reloader,
            KeyInvalidationService(store: store, authenticator: authenticator),
        ]
        if let leases { services.insert(AdmissionLeaseService(leases: leases, holder: holder, logger: logger), at: 2) }
        if let auditTrail { services.insert(AuditService(trail: auditTrail), at: 0) }
        services += extraServices
        // A deep accept queue: a burst of a thousand agents connecting at once must not meet
        // SYN drops and one-second retransmits (the kernel caps it at net.core.somaxconn).
        let serverConfiguration = ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: nil, backlog: 4096)
        let running: @Sendable (any Channel) async -> Void = { channel in
            await onServerRunning(channel.localAddress?.port ?? 0)
        }
        let loops = EventLoopGroupProvider.shared(IOThreads.group(threads: configuration.ioThreads ?? IOThreads.defaultCount))
        // Closes connections that never send a (complete) request head, so slow or silent
        // clients cannot pin descriptors forever.
        let idle = configuration.clientIdleTimeout.components
        let http1 = HTTPServerBuilder.http1(
            configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [
                    ClientInputClosedHandler(), ExpectContinueHandler(maxBodyBytes: { holder.policy.snapshot.server.maxBodyBytes }),
                ],
                idleTimeout: TimeAmount.nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000)))
        if let cert = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            let tls = try TLSConfigurationLoader.load(certificate: cert, key: key)
            return Application(
                router: router, server: try .tls(http1, tlsConfiguration: tls), configuration: serverConfiguration,
                services: services, onServerRunning: running, eventLoopGroupProvider: loops, logger: logger)
        }
        return Application(
            router: router, server: http1, configuration: serverConfiguration, services: services, onServerRunning: running,
            eventLoopGroupProvider: loops, logger: logger)
    }
}

/// Loads the PEM certificate chain and key for TLS termination.
enum TLSConfigurationLoader {
    static func load(certificate: String, key: String) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
    }
}

/// Keeps the upstream client's threads alive for the server's lifetime and stops them on shutdown.
struct UpstreamClientService: Service {
    let client: CurlClient

    func run() async throws {
        try? await gracefulShutdown()
        client.shutdown()
    }
}
