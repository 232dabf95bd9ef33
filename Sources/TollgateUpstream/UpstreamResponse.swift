/// A provider's response, handed over as soon as its headers arrived.
///
/// Returning before the body lets the gateway start relaying a stream (SSE) immediately and
/// decide on failover by status without waiting for a large body.
public struct UpstreamResponse: Sendable {
    /// Status of the final response (interim 1xx responses are skipped).
    public let status: Int
    /// Headers of the final response, names lowercased, in the order received.
    public let headers: [(String, String)]
    /// The body, streamed as it arrives. Consume it or drop it; dropping cancels the transfer.
    public let body: UpstreamBody

    public init(status: Int, headers: [(String, String)], body: UpstreamBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// First value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0 == wanted }?.1
    }
}
