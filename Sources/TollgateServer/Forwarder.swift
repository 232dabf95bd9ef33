import Logging
import TollgateCore
import TollgateUpstream

/// A provider answer that the gateway will hand to the client, with the target that gave it.
struct ForwardedResponse: Sendable {
    let response: UpstreamResponse
    let target: ResolvedTarget
    let attempts: Int
}

/// Sends one request along a route's ordered targets until one answers usefully.
///
/// Only failures that say nothing about the request itself (connect errors, timeouts, 5xx,
/// 429) move on to the next target; a provider's 4xx is the client's problem and is returned.
/// Nothing is retried once the response has started flowing to the client: the caller only
/// receives a response after its status and headers arrived.
struct Forwarder: Sendable {
    let transport: any UpstreamTransport
    let resilience: ResilienceRuntime

    func forward(path: String, body: @Sendable (ResolvedTarget) -> [UInt8], stream: Bool, plan: RoutePlan, runtime: RuntimePolicy,
                 requestID: String, logger: Logger) async throws -> ForwardedResponse
    {
        var lastError: GatewayError = .serviceUnavailable("No provider is available for this model right now.")
        var attempts = 0
        for target in resilience.orderedAttempts(plan: plan, policy: runtime.snapshot) {
            if attempts > 0 {
                try await resilience.backoff(attempt: attempts, policy: runtime.snapshot)
            }
            guard let permit = resilience.acquire(target: target, policy: runtime.snapshot) else { continue }
            attempts += 1
            let request = UpstreamRequestBuilder.build(
                path: path, body: body(target), stream: stream, target: target, keys: runtime.providerKeys, requestID: requestID)
            do {
                let response = try await transport.execute(request)
                switch response.status {
                case 200..<300:
                    resilience.record(permit, outcome: .success)
                    return ForwardedResponse(response: response, target: target, attempts: attempts)
                case 429, 500...599:
                    resilience.record(permit, outcome: .failure(status: response.status, retryAfter: RetryAfter.seconds(response.headers)))
                    response.body.cancel()
                    lastError = response.status == 429
                        ? GatewayError(status: 503, type: "api_error", code: "upstream_rate_limited", message: "The provider is rate limiting; try again later.")
                        : .badGateway("The provider returned an error (status \(response.status)).")
                    logger.warning("upstream attempt failed", metadata: ["upstream.target": .string(target.target.id), "upstream.status": .stringConvertible(response.status)])
                case 401, 403:
                    // The gateway's own provider credential was refused: not the client's fault,
                    // and the provider's message may echo part of the key, so it is not passed on.
                    resilience.record(permit, outcome: .failure(status: response.status, retryAfter: nil))
                    response.body.cancel()
                    lastError = .badGateway("The provider refused the gateway's credentials.")
                    logger.error("provider rejected credentials", metadata: ["upstream.target": .string(target.target.id)])
                default:
                    resilience.record(permit, outcome: .clientError)
                    return ForwardedResponse(response: response, target: target, attempts: attempts)
                }
            } catch {
                resilience.record(permit, outcome: .transportFailure)
                lastError = Self.gatewayError(for: error)
                logger.warning("upstream attempt failed", metadata: ["upstream.target": .string(target.target.id), "upstream.error": .string(Self.kind(of: error))])
                if case .cancelled = error { throw CancellationError() }
            }
        }
        throw lastError
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

/// Parses `Retry-After` (delta seconds or an HTTP date is clamped to a minute's wait).
enum RetryAfter {
    static func seconds(_ headers: [(String, String)]) -> Double? {
        guard let value = headers.first(where: { $0.0 == "retry-after" })?.1 else { return nil }
        if let seconds = Double(value.trimmingSpaces()), seconds >= 0 { return min(seconds, 3600) }
        return 60
    }
}
