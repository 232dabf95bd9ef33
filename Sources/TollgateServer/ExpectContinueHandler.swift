import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` when the request head arrives.
///
/// Clients that send the header hold the body back until the server agrees (libcurl for large
/// bodies, .NET's HttpClient, several Java clients); without the interim answer every such request
/// stalls for the client's expect timeout (one second in curl) before the body comes anyway. A body
/// whose declared length is over the limit gets no 100: the route answers 413 and the client never
/// sends it. Other refusals (a bad key) may follow the 100, which RFC 9110 (§10.1.1) allows.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// The current body limit (policies reload, so it is read per request).
    private let maxBodyBytes: @Sendable () -> Int

    init(maxBodyBytes: @escaping @Sendable () -> Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), let expect = head.headerFields[.expect], expect.lowercased() == "100-continue",
            !Self.declaresMoreThan(maxBodyBytes(), head)
        {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }

    private static func declaresMoreThan(_ limit: Int, _ head: HTTPRequest) -> Bool {
        guard let length = head.headerFields[.contentLength].flatMap({ Int($0) }) else { return false }
        return length > limit
    }
}
