import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateUpstream

/// What a finished stream reports back for accounting and the audit trail.
struct StreamSummary: Sendable {
    var events = 0
    var bytes = 0
    var usage: TokenUsage?
    var sawDone = false
    /// Set when the provider broke off; the client got a final error event.
    var failure: String?
    var clientGone = false
    /// The whole answer rebuilt from the provider's events (before screening), when asked for.
    var assembled: StreamAssembler?
}

/// Relays a provider's SSE stream to the client event by event, as the events arrive.
///
/// Whole events only: if the provider breaks off mid-event, the partial event is dropped and
/// the client gets one final `data: {"error": ...}` event, so it never parses half a chunk
/// and nothing is sent twice.
struct StreamRelay: Sendable {
    /// Hides the provider's usage chunk from a client that did not ask for it (the gateway
    /// asks for it to settle budgets).
    let suppressUsageChunk: Bool
    let screen: StreamScreen?
    /// Rebuild the whole answer as it passes, for the response cache.
    var assemble = false

    func relay(_ body: UpstreamBody, to writer: inout any ResponseBodyWriter, logger: Logger) async -> StreamSummary {
        var summary = StreamSummary()
        if assemble { summary.assembled = StreamAssembler() }
        var framer = SSEFramer()
        do {
            for try await chunk in body {
                let events: [[UInt8]]
                do {
                    events = try framer.feed(chunk)
                } catch {
                    throw StreamBreak.oversizedEvent
                }
                guard !events.isEmpty else { continue }
                var out: [UInt8] = []
                for event in events {
                    if let forwarded = inspect(event, summary: &summary) { out.append(contentsOf: forwarded) }
                }
                if !out.isEmpty {
                    summary.bytes += out.count
                    do {
                        try await writer.write(ByteBuffer(bytes: out))
                    } catch {
                        summary.clientGone = true
                        body.cancel()
                        return summary
                    }
                }
            }
            let rest = framer.drain()
            if !rest.isEmpty, !rest.allSatisfy({ $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }) {
                var terminated = rest
                terminated.append(contentsOf: [0x0A, 0x0A])
                if let forwarded = inspect(terminated, summary: &summary) {
                    try? await writer.write(ByteBuffer(bytes: forwarded))
                }
            }
            if !summary.sawDone {
                // The provider closed without [DONE]: end the stream the way clients expect.
                let flushed = screen?.flush() ?? []
                try? await writer.write(ByteBuffer(bytes: flushed + SSEEvent.encode(SSEEvent.done)))
            }
        } catch UpstreamError.cancelled {
            // Only the gateway cancels a body: the client went away (see `ClientCloseWatch`).
            summary.clientGone = true
        } catch {
            body.cancel()
            let message: String
            switch error {
            case let upstream as UpstreamError: message = "The provider stream was interrupted (\(Forwarder.kind(of: upstream)))."
            case StreamBreak.oversizedEvent: message = "The provider sent an event larger than the gateway accepts."
            default: message = "The provider stream was interrupted."
            }
            summary.failure = message
            logger.warning("upstream stream broke", metadata: ["stream.events": .stringConvertible(summary.events)])
            let errorEvent = GatewayError.badGateway(message).jsonBody
            try? await writer.write(ByteBuffer(bytes: SSEEvent.encode(errorEvent)))
        }
        return summary
    }

    private enum StreamBreak: Error { case oversizedEvent }

    /// Reads one event for usage and [DONE]; returns the bytes to forward, or nil to drop it.
    private func inspect(_ event: [UInt8], summary: inout StreamSummary) -> [UInt8]? {
        summary.events += 1
        guard let data = SSEEvent.data(event) else { return event }
        summary.assembled?.feed(data: data)
        if data == SSEEvent.done {
            summary.sawDone = true
            return screen?.process(event) ?? event
        }
        if data.count < 4096, data.firstRange(of: Array("\"usage\"".utf8)) != nil,
            let value = try? JSONParser.parse(data), let usage = TokenUsage(json: value["usage"])
        {
            summary.usage = usage
            if suppressUsageChunk, (value["choices"]?.arrayValue ?? []).isEmpty { return nil }
        }
        return screen?.process(event) ?? event
    }
}
