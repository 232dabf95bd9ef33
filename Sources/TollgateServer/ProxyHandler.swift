import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// The OpenAI-compatible endpoints: authenticate, check the model, route, admit, forward,
/// relay, settle.
struct ProxyHandler: Sendable {
    let policies: PolicyHolder
    let authenticator: any Authenticator
    let forwarder: Forwarder
    let planner: RoutePlanner
    let admission: AdmissionGate
    let metrics: GatewayMetrics
    let audit: AuditRecorder
    let responses: ResponseCacheStage
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
        let data = try allowedModelNames(principal, runtime: runtime).map { Self.modelObject($0, runtime: runtime) }
        return JSONResponse.make(.object([("object", .string("list")), ("data", .array(data))]))
    }

    /// `GET /v1/models/{id}`: one model the key may use, or 404 as OpenAI answers.
    func model(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let runtime = policies.policy
        let principal = try await authenticate(request, policy: runtime.snapshot)
        let id = context.parameters.get("id") ?? ""
        guard try allowedModelNames(principal, runtime: runtime).contains(id) else { throw GatewayError.modelNotFound(id) }
        return JSONResponse.make(Self.modelObject(id, runtime: runtime))
    }

    /// The models and aliases this key may request: its team's list, narrowed by the key's own.
    private func allowedModelNames(_ principal: Principal, runtime: RuntimePolicy) throws -> [String] {
        guard let team = runtime.snapshot.teams[principal.team] else { throw GatewayError.invalidAPIKey() }
        let names = runtime.snapshot.allowedModels(for: team)
        guard let keyModels = principal.models else { return names }
        return names.filter(keyModels.contains)
    }

    private static func modelObject(_ id: String, runtime: RuntimePolicy) -> JSONValue {
        let created = Int(runtime.loadedAt.timeIntervalSince1970)
        return .object([("id", .string(id)), ("object", .string("model")), ("created", .number(String(created))), ("owned_by", .string("tollgate"))])
    }

    func chatCompletions(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try await auditingRefusals(endpoint: "chat.completions", request, context: context, handle: handleChat)
    }

    func embeddings(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        try await auditingRefusals(endpoint: "embeddings", request, context: context, handle: handleEmbeddings)
    }

    /// Authenticates, then runs `handle`; a refusal is written to the audit trail with the key and team
    /// when the key was valid, so a team's refused requests can be told apart from anonymous ones.
    private func auditingRefusals(
        endpoint: String, _ request: Request, context: GatewayRequestContext,
        handle: (Request, Principal, RuntimePolicy, GatewayRequestContext) async throws -> Response
    ) async throws -> Response {
        var principal: Principal?
        do {
            let runtime = policies.policy
            let authenticated = try await authenticate(request, policy: runtime.snapshot)
            principal = authenticated
            return try await handle(request, authenticated, runtime, context)
        } catch let error as GatewayError {
            audit.refused(requestID: context.requestID, endpoint: endpoint, principal: principal, error: error)
            throw error
        }
    }

    private func handleChat(_ request: Request, principal: Principal, runtime: RuntimePolicy, context: GatewayRequestContext) async throws -> Response {
        let policy = runtime.snapshot
        let bytes = try await BodyReader.read(request, limit: policy.server.maxBodyBytes)
        var chat = try ChatCompletionRequest.parse(bytes)
        try authorize(model: chat.model, principal: principal, policy: policy)
        let screening = ScreeningStage(runtime: runtime.screening)
        let screened = try screening.screenRequest(&chat, logger: context.logger)
        let plan = try planner.plan(model: chat.model, chat: chat, principal: principal, runtime: runtime)
        let ticket = try await admission.admit(
            principal: principal, policy: policy, servedModel: plan.servedModel, texts: chat.messages.map(\.text),
            maxTokens: chat.maxTokens, choices: chat.choiceCount, logger: context.logger)
        let cache = await responses.consult(cacheControl: request.headers[.cacheControl], decision: {
            CacheDecision.decide(chat: chat, team: principal.team, servedModel: plan.servedModel, variant: plan.variant.name, settings: policy.cache)
        }, logger: context.logger)
        if case .hit(let answer) = cache {
            return await answerFromCache(answer, chat: chat, plan: plan, principal: principal, ticket: ticket, screened: screened, screening: screening, context: context)
        }
        let cacheKey = cache.storeKey
        // Streams are asked for their usage chunk so budgets settle on real numbers; a client that
        // did not ask for it does not see it.
        let addUsage = chat.stream && !chat.clientWantsStreamUsage
        if addUsage {
            chat.overrides.append(("stream_options", (chat.body["stream_options"] ?? .object([])).setting("include_usage", to: .bool(true))))
        }
        let forwardedChat = chat
        let started = ContinuousClock.now
        // From here until the answer is relayed, a client that leaves aborts the provider call.
        let abort = UpstreamAbort()
        let watch = ClientCloseWatch.shared.watch(context.channel) { abort.fire() }
        var streamKeepsWatching = false
        defer { if !streamKeepsWatching { ClientCloseWatch.shared.stop(watch) } }
        let forwarded: ForwardedResponse
        do {
            forwarded = try await forwarder.forward(
                path: "/chat/completions",
                body: { target in forwardedChat.forwardBody(model: target.target.model) },
                stream: chat.stream, plan: plan, runtime: runtime,
                requestID: context.requestID, abort: abort, logger: context.logger)
        } catch {
            await admission.refund(ticket, logger: context.logger)
            recordCanary(runtime, plan: plan, failed: true, started: started)
            throw error
        }
        var headers = proxiedHeaders(forwarded, ticket: ticket, flags: screened.flags, cache: cache.header)
        let upstream = forwarded.response
        if chat.stream && upstream.status == 200 {
            streamKeepsWatching = true
            let stream = StreamedChat(
                runtime: runtime, principal: principal, requestedModel: chat.model, forwarded: forwarded, ticket: ticket,
                screening: screening, screened: screened, cacheKey: cacheKey, suppressUsageChunk: addUsage, watch: watch,
                requestID: context.requestID, started: started)
            return streamedResponse(stream, headers: headers, logger: context.logger)
        }
        let body: [UInt8]
        do {
            body = try await collect(upstream)
        } catch {
            await admission.refund(ticket, logger: context.logger)
            recordCanary(runtime, plan: forwarded.plan, failed: true, started: started)
            throw error
        }
        metrics.recordUpstream(target: forwarded.target.target.id, seconds: started.secondsElapsed, failed: false)
        // A request its variant only answered after a retry counts as an error for that variant: otherwise
        // retries hide a canary whose provider fails every other attempt from the rollback monitor.
        recordCanary(runtime, plan: forwarded.plan, failed: upstream.status >= 500 || forwarded.attempts > 1, started: started)
        let parsed = upstream.status == 200 ? try? JSONParser.parse(body) : nil
        if upstream.status == 200, parsed == nil, screening.redactsResponses {
            // What cannot be parsed cannot be screened: fail closed rather than relay it unread.
            await admission.settle(ticket, usage: nil, logger: context.logger)
            throw GatewayError.badGateway("The provider's answer is not valid JSON, so it could not be screened.")
        }
        if (200..<300).contains(upstream.status) {
            await admission.settle(ticket, usage: TokenUsage(json: parsed?["usage"]), logger: context.logger)
        } else {
            // A provider's 4xx (the 5xx/429 ones were already turned into errors) used nothing billable.
            await admission.refund(ticket, logger: context.logger)
        }
        var outBody = screening.screenResponse(body, parsed: parsed, screened: screened, logger: context.logger, restoring: false)
        if let cacheKey, upstream.status == 200, parsed != nil, !forwarded.degraded {
            let answer = CachedAnswer(provider: forwarded.target.provider.name, target: forwarded.target.target.model, body: outBody)
            await responses.store(answer, key: cacheKey, ttlSeconds: policy.cache.ttlSeconds, logger: context.logger)
        }
        if screening.restores {
            // Restoring what is already screened is the same step a cache hit takes.
            outBody = screening.screenResponse(outBody, parsed: try? JSONParser.parse(outBody), screened: screened, logger: context.logger)
        }
        audit.proxied(
            requestID: context.requestID, endpoint: "chat.completions", principal: principal, requested: chat.model, forwarded: forwarded,
            status: upstream.status, stream: false, outcome: upstream.status < 400 ? "completed" : "provider_refused",
            usage: TokenUsage(json: parsed?["usage"]), flags: screened.flags, latency: started.secondsElapsed)
        headers[.contentType] = upstream.headers.first(where: { $0.0 == "content-type" })?.1 ?? "application/json"
        return Response(status: .init(code: upstream.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: outBody)))
    }

    private func handleEmbeddings(_ request: Request, principal: Principal, runtime: RuntimePolicy, context: GatewayRequestContext) async throws -> Response {
        let received = ContinuousClock.now
        let policy = runtime.snapshot
        let bytes = try await BodyReader.read(request, limit: policy.server.maxBodyBytes)
        var embedding = try EmbeddingsRequest.parse(bytes)
        try authorize(model: embedding.model, principal: principal, policy: policy)
        let screened = try ScreeningStage(runtime: runtime.screening).screenEmbeddingInput(embedding, logger: context.logger)
        let overrides: [(String, JSONValue)] = screened.input.map { [("input", $0)] } ?? []
        if let input = screened.input { embedding.body = embedding.body.setting("input", to: input) }
        let forwardedEmbedding = embedding
        let plan = try planner.plan(model: embedding.model, chat: nil, principal: principal, runtime: runtime)
        let ticket = try await admission.admit(
            principal: principal, policy: policy, servedModel: plan.servedModel, texts: embedding.inputs, maxTokens: 0, logger: context.logger)
        let cache = await responses.consult(cacheControl: request.headers[.cacheControl], decision: {
            CacheDecision.decide(
                embedding: forwardedEmbedding, team: principal.team, servedModel: plan.servedModel, variant: plan.variant.name, settings: policy.cache)
        }, logger: context.logger)
        if case .hit(let answer) = cache {
            await admission.settle(ticket, usage: TokenUsage(promptTokens: 0, completionTokens: 0), logger: context.logger)
            var headers = gatewayHeaders(model: plan.servedModel, provider: answer.provider, route: plan.routeHeader, ticket: ticket, flags: screened.flags, cache: "hit")
            headers[.contentType] = "application/json"
            audit.cacheHit(
                requestID: context.requestID, endpoint: "embeddings", principal: principal, requested: embedding.model, plan: plan,
                provider: answer.provider, stream: false, flags: screened.flags, latency: received.secondsElapsed)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        let cacheKey = cache.storeKey
        let started = ContinuousClock.now
        let abort = UpstreamAbort()
        let watch = ClientCloseWatch.shared.watch(context.channel) { abort.fire() }
        defer { ClientCloseWatch.shared.stop(watch) }
        let forwarded: ForwardedResponse
        let body: [UInt8]
        do {
            forwarded = try await forwarder.forward(
                path: "/embeddings",
                body: { target in
                    BodyRewriter.replacing([("model", .string(target.target.model))] + overrides, in: forwardedEmbedding.bytes, spans: forwardedEmbedding.spans)
                },
                stream: false, plan: plan, runtime: runtime, requestID: context.requestID, abort: abort, logger: context.logger)
            body = try await collect(forwarded.response)
        } catch {
            await admission.refund(ticket, logger: context.logger)
            throw error
        }
        metrics.recordUpstream(target: forwarded.target.target.id, seconds: started.secondsElapsed, failed: false)
        let succeeded = (200..<300).contains(forwarded.response.status)
        let usage = succeeded ? TokenUsage(json: (try? JSONParser.parse(body))?["usage"]) : nil
        if succeeded {
            await admission.settle(ticket, usage: usage, logger: context.logger)
        } else {
            await admission.refund(ticket, logger: context.logger)
        }
        audit.proxied(
            requestID: context.requestID, endpoint: "embeddings", principal: principal, requested: embedding.model, forwarded: forwarded,
            status: forwarded.response.status, stream: false, outcome: forwarded.response.status < 400 ? "completed" : "provider_refused",
            usage: usage, flags: screened.flags, latency: started.secondsElapsed)
        if let cacheKey, forwarded.response.status == 200, !forwarded.degraded {
            let answer = CachedAnswer(provider: forwarded.target.provider.name, target: forwarded.target.target.model, body: body)
            await responses.store(answer, key: cacheKey, ttlSeconds: policy.cache.ttlSeconds, logger: context.logger)
        }
        var headers = proxiedHeaders(forwarded, ticket: ticket, flags: screened.flags, cache: cache.header)
        headers[.contentType] = "application/json"
        return Response(status: .init(code: forwarded.response.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    func recordCanary(_ runtime: RuntimePolicy, plan: RoutePlan, failed: Bool, started: ContinuousClock.Instant) {
        guard let canary = runtime.routing.canaries[plan.servedModel] else { return }
        let elapsed = ContinuousClock.now - started
        if let decision = canary.record(variant: plan.variantIndex, failed: failed, latency: elapsed, now: .now()) {
            metrics.count("canary_rollbacks", labels: [("model", plan.servedModel), ("variant", plan.variant.name)])
            Logger(label: "tollgate.canary").error(
                "canary variant rolled back", metadata: ["canary.model": .string(plan.servedModel), "canary.variant": .string(plan.variant.name), "canary.decision": .string("\(decision)")])
        }
        metrics.count("variant_requests", labels: [("model", plan.servedModel), ("variant", plan.variant.name)])
        if failed { metrics.count("variant_errors", labels: [("model", plan.servedModel), ("variant", plan.variant.name)]) }
    }

    private func collect(_ response: UpstreamResponse) async throws -> [UInt8] {
        do {
            return try await response.body.collect(upTo: maxUpstreamBodyBytes)
        } catch {
            throw Forwarder.gatewayError(for: error)
        }
    }

    /// Answers from the cache: no provider call, so the reservation settles to zero tokens (the request
    /// still counts toward rpm and usage), and output screening runs as for a fresh answer.
    private func answerFromCache(
        _ answer: CachedAnswer, chat: ChatCompletionRequest, plan: RoutePlan, principal: Principal, ticket: AdmissionTicket,
        screened: ScreenedRequest, screening: ScreeningStage, context: GatewayRequestContext
    ) async -> Response {
        let started = ContinuousClock.now
        await admission.settle(ticket, usage: TokenUsage(promptTokens: 0, completionTokens: 0), logger: context.logger)
        let parsed = try? JSONParser.parse(answer.body)
        var body = screening.screenResponse(answer.body, parsed: parsed, screened: screened, logger: context.logger)
        var headers = gatewayHeaders(model: plan.servedModel, provider: answer.provider, route: plan.routeHeader, ticket: ticket, flags: screened.flags, cache: "hit")
        headers[.contentType] = "application/json"
        if chat.stream, let completion = body == answer.body ? parsed : try? JSONParser.parse(body) {
            body = CompletionReplay.events(of: completion, includeUsage: chat.clientWantsStreamUsage)
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
        }
        audit.cacheHit(
            requestID: context.requestID, endpoint: "chat.completions", principal: principal, requested: chat.model, plan: plan, provider: answer.provider,
            stream: chat.stream, flags: screened.flags, latency: started.secondsElapsed)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func proxiedHeaders(_ forwarded: ForwardedResponse, ticket: AdmissionTicket, flags: [String], cache: String) -> HTTPFields {
        var headers = gatewayHeaders(
            model: forwarded.plan.servedModel, provider: forwarded.target.provider.name,
            route: forwarded.plan.routeHeader, ticket: ticket, flags: flags, cache: cache)
        if let intended = forwarded.degradedFrom { headers[.tollgateDegradedFrom] = intended }
        return headers
    }

    private func gatewayHeaders(model: String, provider: String, route: String?, ticket: AdmissionTicket, flags: [String], cache: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.tollgateModel] = model
        headers[.tollgateProvider] = provider
        headers[.tollgateCache] = cache
        if let route { headers[.tollgateRoute] = route }
        if !flags.isEmpty { headers[.tollgateFlags] = flags.joined(separator: ",") }
        // Appended, not assigned: the six x-ratelimit-* names are distinct and none of the above, so
        // the subscript's search for an existing field of the same name is wasted work per request.
        headers.reserveCapacity(headers.count + ticket.headers.count)
        for (name, value) in ticket.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
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
