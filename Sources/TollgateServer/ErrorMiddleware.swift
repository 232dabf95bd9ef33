import HTTPTypes
import Hummingbird
import Logging
import TollgateCore

/// Renders every refusal as an OpenAI error and stamps `x-request-id` on every response.
///
/// It wraps the whole router (including not-found) so no path can answer in another shape.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let metrics: GatewayMetrics
    let throttle = LogThrottle()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = context.requestID
            metrics.recordRequest(route: Self.route(request), status: response.status.code)
            return response
        } catch {
            let gatewayError = GatewayError.from(error)
            if gatewayError.status >= 500, let suppressed = throttle.admit(gatewayError.code ?? "") {
                var metadata: Logger.Metadata = ["error.code": .string(gatewayError.code ?? "")]
                if suppressed > 0 { metadata["log.suppressed_since_last"] = .stringConvertible(suppressed) }
                context.logger.error("request failed", metadata: metadata)
            }
            metrics.recordRequest(route: Self.route(request), status: gatewayError.status)
            if let code = gatewayError.code { metrics.count("refusals", labels: [("code", code)]) }
            return gatewayError.response(requestID: context.requestID)
        }
    }

    /// A bounded label: known routes by name, everything else as "other".
    static func route(_ request: Request) -> String {
        let path = request.uri.path
        switch path {
        case "/v1/chat/completions", "/v1/embeddings", "/v1/models", "/healthz", "/readyz", "/metrics", "/admin/status", "/admin/keys", "/admin/usage":
            return path
        default:
            return path.hasPrefix("/admin/keys/") ? "/admin/keys/{id}" : "other"
        }
    }
}
