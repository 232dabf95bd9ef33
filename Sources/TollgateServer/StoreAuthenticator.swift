import Foundation
import Synchronization
import TollgateCore
import TollgateStore

/// Authenticates admin-issued keys from the state store, with a short per-replica cache.
///
/// Entries are trusted for `freshFor` (1 s), which bounds how long a revocation takes to reach
/// this replica even if a pub/sub message is lost; invalidation messages drop them sooner. When
/// the store is unreachable, entries up to `staleFor` old keep known keys working
/// (stale-if-error), while unknown keys are refused with 503 rather than let through.
final class StoreAuthenticator: Authenticator, Sendable {
    private struct Entry {
        var record: APIKeyRecord?
        var fetchedAt: ContinuousClock.Instant
    }

    private let store: any StateStore
    private let fallback: PolicyKeyAuthenticator
    /// Cached lookups, plus an epoch bumped by every invalidation: a store lookup that started before an
    /// invalidation does not write its (possibly pre-revocation) answer back into the cache.
    private let cache = Mutex<(entries: [String: Entry], epoch: UInt64)>(([:], 0))
    private let freshFor: Duration
    private let staleFor: Duration
    /// Bound on cached entries (negative lookups included) so a key-guessing client cannot grow memory.
    private let maxEntries = 100_000

    init(store: any StateStore, freshFor: Duration = .seconds(1), staleFor: Duration = .seconds(60)) {
        self.store = store
        self.fallback = PolicyKeyAuthenticator()
        self.freshFor = freshFor
        self.staleFor = staleFor
    }

    func authenticate(secret: String, policy: PolicySnapshot) async throws(GatewayError) -> Principal {
        let hash = KeyCrypto.sha256Hex(secret)
        if let principal = PolicyKeyAuthenticator.principal(hash: hash, policy: policy) { return principal }
        let now = ContinuousClock.now
        let (cached, epoch) = cache.withLock { ($0.entries[hash], $0.epoch) }
        let record: APIKeyRecord?
        if let cached, now - cached.fetchedAt < freshFor {
            record = cached.record
        } else {
            do {
                record = try await store.key(hash: hash)
                remember(hash, record, at: now, epoch: epoch)
            } catch {
                guard let cached, now - cached.fetchedAt < staleFor else {
                    throw GatewayError.stateStoreUnavailable("The key store is unavailable; try again shortly.")
                }
                record = cached.record
            }
        }
        guard let record, record.isUsable(at: Date()) else { throw .invalidAPIKey() }
        guard policy.teams[record.team] != nil else { throw .invalidAPIKey("The key's team is not in the current policy.") }
        return Principal(keyID: record.id, team: record.team, rpm: record.rpm, tpm: record.tpm, models: record.models)
    }

    private func remember(_ hash: String, _ record: APIKeyRecord?, at now: ContinuousClock.Instant, epoch: UInt64) {
        cache.withLock { cache in
            guard cache.epoch == epoch else { return }
            if cache.entries.count >= maxEntries { cache.entries.removeAll(keepingCapacity: true) }
            cache.entries[hash] = Entry(record: record, fetchedAt: now)
        }
    }

    /// Applies one invalidation message from the store.
    func invalidate(_ message: KeyInvalidation) {
        cache.withLock { cache in
            cache.epoch &+= 1
            switch message {
            case .key(let hash): cache.entries[hash] = nil
            case .all: cache.entries.removeAll()
            }
        }
    }
}
