import HTTPTypes
import Hummingbird
import Logging
import TollgateCore

/// Renders every refusal as an OpenAI error and stamps `x-request-id` on every response.
///
/// It wraps the whole router (including not-found) so no path can answer in another shape.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = context.requestID
            return response
        } catch {
            let gatewayError = GatewayError.from(error)
            if gatewayError.status >= 500 {
                context.logger.error("request failed", metadata: ["error.code": .string(gatewayError.code ?? "")])
            }
            return gatewayError.response(requestID: context.requestID)
        }
    }
}
