/// Why a transfer to a provider failed, in the categories failover and breakers decide on.
public enum UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Name resolution, TCP connect or TLS handshake failed: the provider was never reached.
    case connectFailed(String)
    /// A phase of the transfer took longer than its `UpstreamTimeouts` limit.
    case timeout(phase: TimeoutPhase)
    /// The exchange broke after connecting, including a reset or truncation mid-body.
    case transferFailed(String)
    /// The caller cancelled (task cancellation, dropped body, `UpstreamBody.cancel()`, shutdown).
    case cancelled
    /// The request cannot be sent as given (bad URL, method or header); retrying will not help.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .connectFailed(let message): "upstream connect failed: \(message)"
        case .timeout(let phase): "upstream \(phase.rawValue) timeout"
        case .transferFailed(let message): "upstream transfer failed: \(message)"
        case .cancelled: "upstream transfer cancelled"
        case .invalidRequest(let message): "invalid upstream request: \(message)"
        }
    }
}

/// The phase of a transfer whose time limit ran out.
public enum TimeoutPhase: String, Sendable, Equatable {
    case connect
    case firstByte = "first_byte"
    case total
    case idle
}
