import Foundation
import TollgateCore

/// The seam between the gateway and its shared state: keys, rate limits, budgets and usage.
///
/// Two implementations share one semantics (the pure math in TollgateCore/Limits): `MemoryStore` for a
/// single process and `RedisStore` for replicas sharing Redis. Every method is safe to call
/// concurrently; `admit` is atomic across all its rules, which is what makes limits exact.
public protocol StateStore: Sendable {
    /// Stores a new key record; throws `.conflict` when its id or hash already exists.
    func insertKey(_ record: APIKeyRecord) async throws
    /// Looks a key up by the SHA-256 of the presented secret (revoked and expired records included;
    /// use `APIKeyRecord.isUsable(at:)`).
    func key(hash: String) async throws -> APIKeyRecord?
    /// Looks a key up by its public id.
    func key(id: String) async throws -> APIKeyRecord?
    /// All keys, or one team's, sorted by creation time.
    func listKeys(team: String?) async throws -> [APIKeyRecord]
    /// Marks a key revoked (idempotent: an already revoked key keeps its first `revokedAt`) and
    /// announces the invalidation to every replica. Nil when no key has that id.
    func revokeKey(id: String, at: Date) async throws -> APIKeyRecord?

    /// Checks every rate limit and reserves every budget in one atomic step.
    func admit(_ request: AdmissionRequest, now: Date) async throws -> AdmissionDecision
    /// Corrects an admitted request's reservation to what it actually used and counts its usage.
    func settle(_ reservation: Reservation, actual: UsageAmount) async throws
    /// Returns a failed request's reservation without counting usage.
    func refund(_ reservation: Reservation) async throws
    /// Starts a settle (or, with `actual` nil, a refund) without waiting for its outcome: when this
    /// returns, the correction is applied or already on its way ahead of any later call, so the next
    /// admission sees it. `completion` gets nil or the error, possibly on another thread, and must be quick.
    func startCorrection(_ reservation: Reservation, actual: UsageAmount?, completion: @escaping @Sendable (StoreError?) -> Void)
    /// A team's usage in the period of kind `period` containing `now`, in total and per key.
    func usage(team: String, period: BudgetPeriod, now: Date) async throws -> UsageReport

    /// Whether every admission is a network round trip, so that admitting ahead from leases saves time.
    var admitsRemotely: Bool { get }
    /// Whether the store is known to be unreachable right now, without asking it (no I/O).
    var isKnownUnreachable: Bool { get }

    /// Whether the store answers right now (for `/readyz`).
    func ping() async -> Bool
    /// A new stream of key invalidations for a per-replica key cache; each caller gets its own stream
    /// (bounded, newest kept). `.all` means "drop everything" (sent after a missed-message window).
    func keyInvalidations() -> AsyncStream<KeyInvalidation>
    /// Flushes pending state and releases threads and connections; the store is unusable afterwards.
    func shutdown() async
}

extension StateStore {
    public var admitsRemotely: Bool { false }
    public var isKnownUnreachable: Bool { false }

    /// For stores without an ordered way to start a write: runs the correction as a task of its own.
    public func startCorrection(_ reservation: Reservation, actual: UsageAmount?, completion: @escaping @Sendable (StoreError?) -> Void) {
        Task {
            do {
                if let actual { try await settle(reservation, actual: actual) } else { try await refund(reservation) }
                completion(nil)
            } catch let error as StoreError {
                completion(error)
            } catch {
                completion(.unavailable(String(describing: error)))
            }
        }
    }
}

/// A message to per-replica key caches.
public enum KeyInvalidation: Sendable, Hashable {
    /// The key with this secret hash changed (revoked); drop it.
    case key(hash: String)
    /// Invalidations may have been missed (subscription reconnected); drop every cached key.
    case all
}
