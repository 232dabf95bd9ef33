import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// Health, readiness, metrics and the admin status page.
struct OperationsHandler: Sendable {
    let holder: PolicyHolder
    let metrics: GatewayMetrics
    /// Sampled at scrape time, so gauges are current without a background task.
    var gauges: @Sendable () -> Void = {}
    var readinessChecks: [@Sendable () async -> String?] = []

    func health() -> Response {
        JSONResponse.make(.object([("status", .string("ok"))]))
    }

    /// Ready when a policy is loaded and every dependency answers; says why when not.
    func ready() async -> Response {
        var problems: [JSONValue] = []
        for check in readinessChecks {
            if let problem = await check() { problems.append(.string(problem)) }
        }
        if problems.isEmpty {
            return JSONResponse.make(.object([("status", .string("ready")), ("policy_generation", .number(String(holder.policy.generation)))]))
        }
        return JSONResponse.make(.object([("status", .string("not_ready")), ("reasons", .array(problems))]), status: .serviceUnavailable)
    }

    /// The answer to a HEAD request: the GET answer's status and headers, no body.
    static func headOnly(_ response: Response) -> Response {
        var headers = response.headers
        headers[.contentLength] = nil
        return Response(status: response.status, headers: headers)
    }

    func metricsResponse() -> Response {
        gauges()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }

    func status(_ request: Request, adminToken: String?, extra: [(String, JSONValue)] = []) throws -> Response {
        try AdminAuth.check(request, token: adminToken)
        let runtime = holder.policy
        let reload = holder.reloadStatus
        let formatter = ISO8601DateFormatter()
        var members: [(String, JSONValue)] = [
            ("policy", .object([
                ("version", .number(String(runtime.snapshot.version))),
                ("path", .string(runtime.snapshot.sourcePath)),
                ("file_hash", .string(runtime.fileHash)),
                ("generation", .number(String(runtime.generation))),
                ("loaded_at", .string(formatter.string(from: runtime.loadedAt))),
                ("last_reload_error", reload.lastError.map(JSONValue.string) ?? .null),
                ("reload_failures", .number(String(reload.failures))),
            ]))
        ]
        members.append(contentsOf: extra)
        return JSONResponse.make(.object(members))
    }
}

/// Guards the admin API with a constant-time comparison of the bearer token.
///
/// With no token configured the admin API is disabled (403), never open.
enum AdminAuth {
    static func check(_ request: Request, token: String?) throws {
        guard let token, !token.isEmpty else {
            throw GatewayError.adminForbidden("The admin API is disabled: set TOLLGATE_ADMIN_TOKEN to enable it.")
        }
        guard let presented = CredentialExtractor.secret(from: request.headers), constantTimeEquals(presented, token) else {
            throw GatewayError.adminForbidden("Invalid admin token.")
        }
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        // Compare digests so the time depends neither on where the strings differ nor on the
        // token's length.
        KeyCrypto.constantTimeEquals(KeyCrypto.sha256Hex(a), KeyCrypto.sha256Hex(b))
    }
}
