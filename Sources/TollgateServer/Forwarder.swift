import Logging
import TollgateCore
import TollgateUpstream

/// A provider answer that the gateway will hand to the client, with the target that gave it.
struct ForwardedResponse: Sendable {
    let response: UpstreamResponse
    let target: ResolvedTarget
    /// The plan actually served (differs from the requested one after degradation).
    let plan: RoutePlan
    let attempts: Int
    /// The model the request was routed to, when `degrade_to` served another one instead.
    let degradedFrom: String?

    var degraded: Bool { degradedFrom != nil }
}

/// Sends one request along a route's ordered targets until one answers usefully.
///
/// Only failures that say nothing about the request itself (connect errors, timeouts, 5xx,
/// 429) move on to the next target, after a full-jitter backoff; a provider's 4xx is the
/// client's problem and is returned as is. Targets whose breaker is open, or whose
/// `Retry-After` has not passed, are skipped. Nothing is retried once the response has
/// started flowing to the client: the caller only gets a response after its headers arrived.
struct Forwarder: Sendable {
    let transport: any UpstreamTransport
    let resilience: ResilienceRuntime
    let planner: RoutePlanner

    func forward(
        path: String, body: @Sendable (ResolvedTarget) -> [UInt8], stream: Bool, plan initial: RoutePlan, runtime: RuntimePolicy,
        requestID: String, abort: UpstreamAbort? = nil, logger: Logger
    ) async throws -> ForwardedResponse {
        let registry = resilience.registry
        var plan = initial
        var failover = resilience.failoverPlan(plan, policy: runtime.snapshot, allowDegrade: true)
        var degradedFrom: String?
        var lastError: GatewayError?
        var random = SystemRandomNumberGenerator()
        // Degradation never chains: the fallback model's plan has no `degrade_to` of its own.
        func degrade(to model: String) throws {
            logger.warning("degrading to fallback model", metadata: ["route.model": .string(plan.servedModel), "route.degrade_to": .string(model)])
            plan = try planner.plan(served: model, requested: initial.requestedModel, routeHeader: initial.routeHeader, stickyID: initial.stickyID, runtime: runtime)
            failover = resilience.failoverPlan(plan, policy: runtime.snapshot, allowDegrade: false)
            degradedFrom = initial.servedModel
        }
        while true {
            switch failover.next(now: .now(), registry: registry, using: &random) {
            case .degrade(let model):
                try degrade(to: model)
            case .exhausted(let why):
                // The request whose failures opened the last breaker is served by the fallback model as
                // well, instead of being answered with the failure that tripped it.
                if why == .attemptsExhausted, let model = failover.degradeTo,
                   !failover.targets.contains(where: { registry.isAvailable($0, now: .now()) }) {
                    try degrade(to: model)
                    continue
                }
                if let lastError { throw lastError }
                switch why {
                case .allTargetsUnavailable(let retryAt):
                    var error = GatewayError.serviceUnavailable("No provider is available for this model right now; try again later.")
                    if let retryAt {
                        let seconds = max(1, Int((retryAt - .now()).secondsDouble.rounded(.up)))
                        error.headers.append(("retry-after", String(seconds)))
                    }
                    throw error
                default:
                    throw GatewayError.serviceUnavailable("No provider is available for this model right now.")
                }
            case .attempt(let attempt):
                if attempt.delay > .zero { try await Task.sleep(for: attempt.delay) }
                guard let target = plan.targets.first(where: { $0.target.provider == attempt.target.provider && $0.target.model == attempt.target.model }) else {
                    registry.release(attempt.target, permit: attempt.permit)
                    continue
                }
                let request = UpstreamRequestBuilder.build(
                    path: path, body: body(target), stream: stream, target: target, keys: runtime.providerKeys, requestID: requestID)
                let response: UpstreamResponse
                do {
                    response = try await transport.execute(request, abort: abort)
                } catch {
                    if case .cancelled = error {
                        registry.release(attempt.target, permit: attempt.permit)
                        throw CancellationError()
                    }
                    registry.record(attempt.target, permit: attempt.permit, outcome: Self.outcome(of: error), now: .now())
                    lastError = Self.gatewayError(for: error)
                    logger.warning("upstream attempt failed", metadata: ["upstream.target": .string(target.target.id), "upstream.error": .string(Self.kind(of: error)), "upstream.attempt": .stringConvertible(attempt.number)])
                    continue
                }
                registry.record(attempt.target, permit: attempt.permit, outcome: .status(response.status), now: .now())
                switch response.status {
                case 200..<300:
                    return ForwardedResponse(response: response, target: target, plan: plan, attempts: attempt.number, degradedFrom: degradedFrom)
                case 429, 500...599:
                    response.body.cancel()
                    let retryAfter = RetryAfter.seconds(response.headers)
                    if let seconds = retryAfter {
                        registry.setNotBefore(attempt.target, until: .now() + .milliseconds(Int(seconds * 1000)))
                    }
                    lastError = response.status == 429
                        ? GatewayError(status: 503, type: "api_error", code: "upstream_rate_limited", message: "The provider is rate limiting; try again later.")
                        : .badGateway("The provider returned an error (status \(response.status)).")
                    // When this failure ends up being the answer, the client learns when to come back,
                    // as the provider told the gateway, instead of retrying blind.
                    if let retryAfter { lastError?.headers.append(("retry-after", RetryAfter.headerValue(retryAfter))) }
                    logger.warning("upstream attempt failed", metadata: ["upstream.target": .string(target.target.id), "upstream.status": .stringConvertible(response.status), "upstream.attempt": .stringConvertible(attempt.number)])
                case 401, 403:
                    // The gateway's own provider credential was refused: not the client's fault, and the
                    // provider's message may echo part of the key, so it is not passed on.
                    response.body.cancel()
                    lastError = .badGateway("The provider refused the gateway's credentials.")
                    logger.error("provider rejected credentials", metadata: ["upstream.target": .string(target.target.id)])
                default:
                    return ForwardedResponse(response: response, target: target, plan: plan, attempts: attempt.number, degradedFrom: degradedFrom)
                }
            }
        }
    }

    static func outcome(of error: UpstreamError) -> UpstreamOutcome {
        switch error {
        case .timeout: return .timeout
        case .connectFailed: return .connectError
        case .transferFailed, .invalidRequest: return .connectionReset
        case .cancelled: return .cancelled
        }
    }

    static func gatewayError(for error: UpstreamError) -> GatewayError {
        switch error {
        case .timeout: return .gatewayTimeout("The provider did not answer in time.")
        case .connectFailed: return .serviceUnavailable("The provider could not be reached.")
        case .transferFailed, .invalidRequest: return .badGateway("The provider connection failed.")
        case .cancelled: return .internalError("The request was cancelled.")
        }
    }

    static func kind(of error: UpstreamError) -> String {
        switch error {
        case .timeout(let phase): return "timeout.\(phase)"
        case .connectFailed: return "connect_failed"
        case .transferFailed: return "transfer_failed"
        case .cancelled: return "cancelled"
        case .invalidRequest: return "invalid_request"
        }
    }
}

/// Parses `Retry-After`: delta seconds (capped at an hour); an HTTP date counts as a minute.
enum RetryAfter {
    static func seconds(_ headers: [(String, String)]) -> Double? {
        guard let value = headers.first(where: { $0.0 == "retry-after" })?.1 else { return nil }
        if let seconds = Double(value.trimmingSpaces()), seconds >= 0, seconds.isFinite { return min(seconds, 3600) }
        return 60
    }

    /// The client-facing `Retry-After` for a provider's delay: whole seconds, within 1...3600.
    static func headerValue(_ seconds: Double) -> String {
        String(min(3600, max(1, Int(min(seconds, 3600).rounded(.up)))))
    }
}

extension Duration {
    var secondsDouble: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
