import TollgateCore
import TollgateUpstream

/// Builds the HTTP request for one attempt against one target.
///
/// The client's own key is never copied: the only credential that goes upstream is the
/// provider key from the environment.
enum UpstreamRequestBuilder {
    static func build(path: String, body: [UInt8], stream: Bool, target: ResolvedTarget, keys: ProviderKeys, requestID: String)
        -> UpstreamRequest
    {
        var headers: [(String, String)] = [
            ("content-type", "application/json"),
            ("accept", stream ? "text/event-stream" : "application/json"),
            ("x-request-id", requestID),
        ]
        if let key = keys.key(for: target.provider.name) {
            headers.append(("authorization", "Bearer \(key)"))
        }
        let t = target.provider.timeout
        var request = UpstreamRequest(
            method: "POST", url: target.provider.baseURL + path, headers: headers, body: body,
            timeouts: UpstreamTimeouts(
                connect: .milliseconds(t.connectMs), firstByte: .milliseconds(t.firstByteMs),
                total: .milliseconds(t.totalMs), idle: .milliseconds(t.idleMs)))
        request.deliverWhenComplete = !stream
        request.caFile = target.provider.caFile
        return request
    }
}
