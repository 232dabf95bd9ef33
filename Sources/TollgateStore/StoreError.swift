/// Failures of a `StateStore`. None is fatal to the process; the gateway maps them by policy.
///
/// - `unavailable`: the backing store cannot answer (Redis down, timed out, wrong reply type, disk
///   write failed). The gateway applies `state.on_unavailable` (fail_open / fail_closed).
/// - `unreachable`: like `unavailable`, but the command was never sent (no connection, backoff), so
///   retrying it cannot apply it twice.
/// - `overloaded`: a bounded request queue is full; treat like `unavailable` but it clears by itself.
/// - `conflict`: an insert collides with an existing id or hash.
/// - `invalidArgument`: the caller passed something the store cannot evaluate.
/// - `corrupt`: persisted state could not be read at start-up; refusing to start beats losing keys.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unavailable(String)
    case unreachable(String)
    case overloaded(String)
    case conflict(String)
    case invalidArgument(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return "state store unavailable: \(reason)"
        case .unreachable(let reason): return "state store unavailable: \(reason)"
        case .overloaded(let reason): return "state store overloaded: \(reason)"
        case .conflict(let reason): return "state store conflict: \(reason)"
        case .invalidArgument(let reason): return "invalid state store request: \(reason)"
        case .corrupt(let reason): return "state store data is corrupt: \(reason)"
        }
    }

    /// The message without the kind's prefix, for wrapping one error's cause in another.
    public var reason: String {
        switch self {
        case .unavailable(let reason), .unreachable(let reason), .overloaded(let reason), .conflict(let reason),
            .invalidArgument(let reason), .corrupt(let reason):
            return reason
        }
    }

    /// True for the errors the fail_open / fail_closed choice applies to.
    public var isUnavailability: Bool {
        switch self {
        case .unavailable, .unreachable, .overloaded: return true
        default: return false
        }
    }

    /// True when the store certainly did not apply the command, so sending it again later is safe.
    public var certainlyNotApplied: Bool {
        switch self {
        case .unreachable, .overloaded: return true
        default: return false
        }
    }
}
