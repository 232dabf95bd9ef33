import Synchronization

/// The embedded response cache: bounded by total bytes, oldest entries evicted first.
///
/// Kept in memory only (a restart empties it): answers are cheap to lose and expensive to persist.
public final class MemoryResponseCache: ResponseCache {
    private struct Entry {
        var value: [UInt8]
        var expires: ContinuousClock.Instant
        var order: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Insertion order, for eviction; stale pairs (replaced or removed keys) are skipped.
        var queue: [(key: String, order: UInt64)] = []
        var head = 0
        var bytes = 0
        var nextOrder: UInt64 = 0
    }

    private let state = Mutex(State())
    private let maxBytes: Int

    public init(maxBytes: Int = 64 * 1024 * 1024) {
        self.maxBytes = max(1, maxBytes)
    }

    public func cachedValue(forKey key: String) async throws -> [UInt8]? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            if entry.expires <= now {
                state.bytes -= entry.value.count + key.utf8.count
                state.entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    public func storeValue(_ value: [UInt8], forKey key: String, ttlSeconds: Int) async throws {
        let size = value.count + key.utf8.count
        guard size <= maxBytes / 4 else { return }
        let expires = ContinuousClock.now + .seconds(max(1, ttlSeconds))
        state.withLock { state in
            if let old = state.entries[key] { state.bytes -= old.value.count + key.utf8.count }
            state.nextOrder &+= 1
            state.entries[key] = Entry(value: value, expires: expires, order: state.nextOrder)
            state.queue.append((key, state.nextOrder))
            state.bytes += size
            while state.bytes > maxBytes, state.head < state.queue.count {
                let oldest = state.queue[state.head]
                state.head += 1
                if let entry = state.entries[oldest.key], entry.order == oldest.order {
                    state.bytes -= entry.value.count + oldest.key.utf8.count
                    state.entries[oldest.key] = nil
                }
            }
            // Rebuild the queue once stale pairs dominate, so it stays proportional to the map
            // even when the same keys are stored again and again.
            if state.queue.count - state.head > 2 * state.entries.count + 1024 {
                state.queue = state.entries.map { ($0.key, $0.value.order) }.sorted { $0.1 < $1.1 }
                state.head = 0
            } else if state.head > 1024 && state.head * 2 > state.queue.count {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// Entries currently held (expired ones included until touched); for tests and metrics.
    public var count: Int { state.withLock { $0.entries.count } }
}
