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
    /// Hand the response to the caller only once its body is complete (or fills the body
    /// buffer). For small non-streamed answers this saves the thread hops of streaming the body
    /// chunk by chunk, and a failure before completion is still thrown by `execute`, where the
    /// caller may retry elsewhere because nothing has reached its client yet.
    public var deliverWhenComplete = false
    /// PEM file of CA certificates to verify the server against instead of the system bundle.
    public var caFile: String?

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
