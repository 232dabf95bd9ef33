import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

extension GatewayError {
    /// The OpenAI error envelope as bytes.
    var jsonBody: [UInt8] {
        let error: JSONValue = .object([
            ("message", .string(message)),
            ("type", .string(type)),
            ("param", param.map(JSONValue.string) ?? .null),
            ("code", code.map(JSONValue.string) ?? .null),
        ])
        return JSONWriter.bytes(.object([("error", error)]))
    }

    /// A complete HTTP response for this error.
    func response(requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name.requestID] = requestID
        for (name, value) in self.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    /// Maps whatever a handler threw to the error a client should see, hiding internals.
    static func from(_ error: any Error) -> GatewayError {
        if let gateway = error as? GatewayError { return gateway }
        // Only a client that went away cancels a request (`ClientCloseWatch`); nobody reads this
        // answer, and 499 keeps it out of the server-error counts, as nginx does.
        if error is CancellationError {
            return GatewayError(status: 499, type: "api_error", code: "client_closed_request", message: "The client closed the connection.")
        }
        if let http = error as? HTTPError {
            switch http.status.code {
            case 413: return GatewayError(status: 413, type: "invalid_request_error", code: "request_too_large", message: "The request body is too large.")
            case 404: return .notFound("Unknown path.")
            case 405: return .methodNotAllowed("Method not allowed on this path.")
            case 400..<500: return GatewayError(status: http.status.code, type: "invalid_request_error", code: nil, message: http.body ?? "Bad request.")
            default: return .internalError()
            }
        }
        return .internalError()
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("x-request-id")!
    static let tollgateModel = HTTPField.Name("x-tollgate-model")!
    static let tollgateProvider = HTTPField.Name("x-tollgate-provider")!
    static let tollgateRoute = HTTPField.Name("x-tollgate-route")!
    /// The model a degraded answer stands in for (`degrade_to`); `x-tollgate-model` names the one served.
    static let tollgateDegradedFrom = HTTPField.Name("x-tollgate-degraded-from")!
    static let tollgateCache = HTTPField.Name("x-tollgate-cache")!
    static let tollgateFlags = HTTPField.Name("x-tollgate-flags")!
    static let apiKey = HTTPField.Name("api-key")!
}
