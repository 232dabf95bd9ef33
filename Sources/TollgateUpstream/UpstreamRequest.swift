/// One HTTP request to a provider, already translated to the provider's wire format.
///
/// A plain value so provider adapters can build it without touching libcurl.
public struct UpstreamRequest: Sendable {
    /// `GET` or `POST` (any other RFC 9110 token is sent as a custom method).
    public var method: String
    /// Absolute `http://` or `https://` URL.
    public var url: String
    /// Request headers in order; names and values must not contain CR or LF.
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeouts: UpstreamTimeouts

    public init(
        method: String = "POST", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeouts: UpstreamTimeouts = UpstreamTimeouts()
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}
