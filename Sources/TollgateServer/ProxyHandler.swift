import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The OpenAI-compatible endpoints: authenticate, check the model, route, forward, relay.
struct ProxyHandler: Sendable {
    let policies: PolicyHolder
    let authenticator: any Authenticator
    let forwarder: Forwarder
    let planner: RoutePlanner
    let metrics: GatewayMetrics
    /// Bound on a non-streamed provider answer the gateway holds in memory.
    let maxUpstreamBodyBytes = 64 * 1024 * 1024

    func authenticate(_ request: Request, policy: PolicySnapshot) async throws -> Principal {
        guard let secret = CredentialExtractor.secret(from: request.headers) else {
            throw GatewayError.invalidAPIKey("You didn't provide an API key. Send it as `Authorization: Bearer sk-...`.")
        }
        return try await authenticator.authenticate(secret: secret, policy: policy)
    }

    func authorize(model: String, principal: Principal, policy: PolicySnapshot) throws {
        guard policy.isKnownModel(model) else { throw GatewayError.modelNotFound(model) }
        guard let team = policy.teams[principal.team] else { throw GatewayError.invalidAPIKey("The key's team no longer exists.") }
        if let allowed = team.models, !allowed.contains(model) { throw GatewayError.modelNotAllowed(model) }
        if let keyModels = principal.models, !keyModels.contains(model) { throw GatewayError.modelNotAllowed(model) }
    }

    func models(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let runtime = policies.policy
        let principal = try await authenticate(request, policy: runtime.snapshot)
        guard let team = runtime.snapshot.teams[principal.team] else { throw GatewayError.invalidAPIKey() }
        var names = runtime.snapshot.allowedModels(for: team)
        if let keyModels = principal.models { names = names.filter(keyModels.contains) }
        let created = Int(runtime.loadedAt.timeIntervalSince1970)
        let data: [JSONValue] = names.map {
            .object([("id", .string($0)), ("object", .string("model")), ("created", .number(String(created))), ("owned_by", .string("tollgate"))])
        }
        return JSONResponse.make(.object([("object", .string("list")), ("data", .array(data))]))
    }

    func chatCompletions(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let runtime = policies.policy
        let policy = runtime.snapshot
        let principal = try await authenticate(request, policy: policy)
        let bytes = try await BodyReader.read(request, limit: policy.server.maxBodyBytes)
        let chat = try ChatCompletionRequest.parse(bytes)
        try authorize(model: chat.model, principal: principal, policy: policy)
        let plan = try planner.plan(model: chat.model, chat: chat, principal: principal, policy: policy)
        let started = ContinuousClock.now
        let forwarded = try await forwarder.forward(
            path: "/chat/completions",
            body: { target in BodyRewriter.replacing("model", with: .string(target.target.model), in: chat.bytes, spans: chat.spans) },
            stream: chat.stream, plan: plan, runtime: runtime, requestID: context.requestID, logger: context.logger)
        var headers = proxiedHeaders(forwarded, plan: plan)
        let upstream = forwarded.response
        if chat.stream && upstream.status == 200 {
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            let relay = StreamRelay(suppressUsageChunk: false, transform: nil)
            let logger = context.logger
            let metrics = self.metrics
            let target = forwarded.target.target.id
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    let summary = await relay.relay(upstream.body, to: &writer, logger: logger)
                    metrics.recordUpstream(target: target, seconds: started.secondsElapsed, failed: summary.failure != nil)
                    try await writer.finish(nil)
                })
        }
        let body = try await collect(upstream)
        metrics.recordUpstream(target: forwarded.target.target.id, seconds: started.secondsElapsed, failed: false)
        headers[.contentType] = upstream.headers.first(where: { $0.0 == "content-type" })?.1 ?? "application/json"
        return Response(status: .init(code: upstream.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    func embeddings(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let runtime = policies.policy
        let policy = runtime.snapshot
        let principal = try await authenticate(request, policy: policy)
        let bytes = try await BodyReader.read(request, limit: policy.server.maxBodyBytes)
        let embedding = try EmbeddingsRequest.parse(bytes)
        try authorize(model: embedding.model, principal: principal, policy: policy)
        let plan = try planner.plan(model: embedding.model, chat: nil, principal: principal, policy: policy)
        let started = ContinuousClock.now
        let forwarded = try await forwarder.forward(
            path: "/embeddings",
            body: { target in BodyRewriter.replacing("model", with: .string(target.target.model), in: embedding.bytes, spans: embedding.spans) },
            stream: false, plan: plan, runtime: runtime, requestID: context.requestID, logger: context.logger)
        let body = try await collect(forwarded.response)
        metrics.recordUpstream(target: forwarded.target.target.id, seconds: started.secondsElapsed, failed: false)
        var headers = proxiedHeaders(forwarded, plan: plan)
        headers[.contentType] = "application/json"
        return Response(status: .init(code: forwarded.response.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func collect(_ response: UpstreamResponse) async throws -> [UInt8] {
        do {
            return try await response.body.collect(upTo: maxUpstreamBodyBytes)
        } catch {
            throw Forwarder.gatewayError(for: error)
        }
    }

    private func proxiedHeaders(_ forwarded: ForwardedResponse, plan: RoutePlan) -> HTTPFields {
        var headers = HTTPFields()
        headers[.tollgateModel] = plan.servedModel
        headers[.tollgateProvider] = forwarded.target.provider.name
        if let route = plan.routeHeader { headers[.tollgateRoute] = route }
        return headers
    }
}

extension ContinuousClock.Instant {
    var secondsElapsed: Double {
        let d = ContinuousClock.now - self
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Small helper for JSON answers the gateway writes itself.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(value))))
    }
}
