/// What happened to one attempt against a target, as the upstream client saw it.
public enum UpstreamOutcome: Sendable, Equatable {
    /// The provider answered with this HTTP status (2xx included).
    case status(Int)
    /// No connection could be made (refused, DNS, TLS handshake).
    case connectError
    /// Connect, first-byte, idle or total timeout.
    case timeout
    /// The connection broke after it was established (reset, truncated body or stream).
    case connectionReset
    /// The gateway gave up on the attempt itself (client disconnected, shutdown); says nothing about the target.
    case cancelled
}

/// How an outcome counts, for the breaker and for the decision to try another target.
public enum OutcomeClass: String, Sendable, Equatable {
    /// The target answered usefully.
    case success
    /// The target is unhealthy or unusable: counts toward its breaker and may be retried elsewhere.
    case targetFailure
    /// The request itself was wrong: the target is fine, another target would refuse it too.
    case clientError
    /// No verdict about the target.
    case neutral
}

/// Maps status codes and transport errors onto `OutcomeClass`.
///
/// A provider's 401, 403 and 404 count as target failures: the client authenticates to the gateway, not to
/// the provider, so those statuses mean the gateway's own credential or upstream model name for that target
/// is wrong, and another target may well work. 408 and 429 are load signals, never the client's fault.
public enum FailureClassifier {
    public static func classify(_ outcome: UpstreamOutcome) -> OutcomeClass {
        switch outcome {
        case .status(let code): classify(status: code)
        case .connectError, .timeout, .connectionReset: .targetFailure
        case .cancelled: .neutral
        }
    }

    public static func classify(status: Int) -> OutcomeClass {
        switch status {
        case 100..<400: .success
        case 401, 403, 404, 408, 429: .targetFailure
        case 400..<500: .clientError
        default: .targetFailure  // 5xx and anything outside HTTP's range
        }
    }

    /// Whether a failure may be retried on a target. Never after the first byte reached the client, because
    /// a retry would duplicate or splice content.
    public static func isRetryable(_ outcome: UpstreamOutcome, responseStarted: Bool) -> Bool {
        !responseStarted && classify(outcome) == .targetFailure
    }
}
