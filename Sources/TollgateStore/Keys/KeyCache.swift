import Foundation
import Synchronization

/// A per-replica cache of key lookups in front of any `StateStore`, so authenticating a request does
/// not cost a Redis round trip.
///
/// Entries live at most `ttl` (a safety net) and are dropped as soon as the store announces an
/// invalidation; run `run()` for the life of the process to consume them. A lookup racing with an
/// invalidation never re-inserts the stale record: every invalidation bumps a generation, and a fetch
/// only caches its result if the generation did not move meanwhile. Unknown hashes are cached briefly
/// too (`negativeTTL`), so a flood of made-up keys does not reach Redis; size is bounded by `capacity`.
public final class KeyCache: Sendable {
    private struct Entry {
        var record: APIKeyRecord?
        var expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var generation: UInt64 = 0
    }

    private let store: any StateStore
    private let ttl: Duration
    private let negativeTTL: Duration
    private let capacity: Int
    private let state = Mutex(State())
    /// Subscribed at construction, so no invalidation between `init` and `run()` is missed.
    private let invalidations: AsyncStream<KeyInvalidation>

    public init(store: any StateStore, ttl: Duration = .seconds(30), negativeTTL: Duration = .seconds(5), capacity: Int = 100_000) {
        self.store = store
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.capacity = max(1, capacity)
        self.invalidations = store.keyInvalidations()
    }

    /// The record for a presented secret's hash (possibly revoked or expired: check `isUsable(at:)`).
    public func record(hash: String) async throws -> APIKeyRecord? {
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { state -> (Entry?, UInt64) in
            (state.entries[hash].flatMap { $0.expires > now ? $0 : nil }, state.generation)
        }
        if let cached { return cached.record }
        let record = try await store.key(hash: hash)
        let expires = ContinuousClock.now + (record == nil ? negativeTTL : ttl)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[hash] = Entry(record: record, expires: expires)
        }
        return record
    }

    /// Drops one entry (or all) now; `run()` calls it for every store invalidation.
    public func invalidate(_ invalidation: KeyInvalidation) {
        state.withLock { state in
            state.generation &+= 1
            switch invalidation {
            case .key(let hash): state.entries[hash] = nil
            case .all: state.entries.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Applies the store's invalidations until the task is cancelled or the store shuts down.
    /// Call it once (it consumes the cache's single subscription).
    public func run() async {
        for await invalidation in invalidations {
            invalidate(invalidation)
            if Task.isCancelled { break }
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
}
