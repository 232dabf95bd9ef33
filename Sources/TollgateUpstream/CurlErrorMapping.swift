import CCurl

/// Maps curl's result codes onto the failure categories failover and breakers act on.
enum CurlErrorMapping {
    /// - Parameters:
    ///   - connected: whether the response head had started arriving; a timeout before that is
    ///     the connect phase (the loop enforces first-byte, idle and total itself, so curl's only
    ///     timer is `CURLOPT_CONNECTTIMEOUT_MS`).
    static func error(for code: CURLcode, message: String, connected: Bool) -> UpstreamError {
        let text = describe(code, message)
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .connectFailed(text)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(phase: connected ? .total : .connect)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT,
            CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN:
            return .invalidRequest(text)
        default:
            return .transferFailed(text)
        }
    }

    static func describe(_ code: CURLcode, _ message: String) -> String {
        let base = curl_easy_strerror(code).map { String(cString: $0) } ?? "curl error"
        let trimmed = message.trimmingHTTPWhitespace().trimmingNewlines()
        return trimmed.isEmpty ? "\(base) (\(code.rawValue))" : "\(base) (\(code.rawValue)): \(trimmed)"
    }
}

extension String {
    fileprivate func trimmingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s.removeLast() }
        return String(s)
    }
}
