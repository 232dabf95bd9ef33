import HTTPTypes
import Hummingbird
import Logging
import TollgateCore
import TollgateUpstream

/// A streamed chat answer in flight: what relaying it needs, and what its accounting, cache entry
/// and audit line need once it has ended.
struct StreamedChat: Sendable {
    let runtime: RuntimePolicy
    let principal: Principal
    let requestedModel: String
    let forwarded: ForwardedResponse
    let ticket: AdmissionTicket
    let screening: ScreeningStage
    let screened: ScreenedRequest
    /// Where the assembled answer is cached, if the cache takes it.
    let cacheKey: String?
    /// The gateway asked for the usage chunk; the client did not, so it is not shown.
    let suppressUsageChunk: Bool
    /// Watching for the client leaving, until the stream ends.
    let watch: ClientCloseWatch.Registration
    let requestID: String
    let started: ContinuousClock.Instant
}

extension ProxyHandler {
    /// Relays the provider's events to the client as they arrive. The response is returned before
    /// the first event, so everything that depends on how the stream ended (settling the tokens,
    /// the canary's error count, the cache entry, the audit line) runs inside the body writer.
    func streamedResponse(_ stream: StreamedChat, headers: HTTPFields, logger: Logger) -> Response {
        var headers = headers
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let relay = StreamRelay(
            suppressUsageChunk: stream.suppressUsageChunk, screen: stream.screening.streamScreen(session: stream.screened.session),
            assemble: stream.cacheKey != nil && !stream.forwarded.degraded)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let summary = await relay.relay(stream.forwarded.response.body, to: &writer, logger: logger)
                ClientCloseWatch.shared.stop(stream.watch)
                await finish(stream, summary: summary, logger: logger)
                try await writer.finish(nil)
            })
    }

    private func finish(_ stream: StreamedChat, summary: StreamSummary, logger: Logger) async {
        let forwarded = stream.forwarded
        let failed = summary.failure != nil
        metrics.recordUpstream(target: forwarded.target.target.id, seconds: stream.started.secondsElapsed, failed: failed)
        recordCanary(stream.runtime, plan: forwarded.plan, failed: failed || forwarded.attempts > 1, started: stream.started)
        await admission.settle(stream.ticket, usage: summary.usage, completionEstimate: summary.events, logger: logger)
        if let cacheKey = stream.cacheKey, !failed, let whole = summary.assembled?.completion() {
            let stored = stream.screening.screenResponse(
                JSONWriter.bytes(whole), parsed: whole, screened: stream.screened, logger: logger, restoring: false)
            await responses.store(
                CachedAnswer(provider: forwarded.target.provider.name, target: forwarded.target.target.model, body: stored),
                key: cacheKey, ttlSeconds: stream.runtime.snapshot.cache.ttlSeconds, logger: logger)
        }
        let outcome = summary.clientGone ? "client_disconnected" : (summary.failure.map { "provider_error: \($0)" } ?? "completed")
        audit.proxied(
            requestID: stream.requestID, endpoint: "chat.completions", principal: stream.principal, requested: stream.requestedModel,
            forwarded: forwarded, status: 200, stream: true, outcome: outcome, usage: summary.usage, flags: stream.screened.flags,
            latency: stream.started.secondsElapsed)
    }
}
