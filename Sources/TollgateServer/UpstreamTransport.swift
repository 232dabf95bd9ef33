import TollgateUpstream

/// The seam between the gateway and the network: `CurlClient` in production.
protocol UpstreamTransport: Sendable {
    func execute(_ request: UpstreamRequest, abort: UpstreamAbort?) async throws(UpstreamError) -> UpstreamResponse
}

extension CurlClient: UpstreamTransport {}
