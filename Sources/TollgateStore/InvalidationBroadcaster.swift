import Synchronization

/// Fans key invalidations out to any number of subscribers, each with its own bounded stream.
final class InvalidationBroadcaster: Sendable {
    /// Newest invalidations kept per slow subscriber; older ones are dropped, which is why a
    /// subscriber that may have missed some should treat a full buffer like `.all` (see `publish`).
    static let bufferLimit = 1024

    private let subscribers = Mutex<[Int: AsyncStream<KeyInvalidation>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    func subscribe() -> AsyncStream<KeyInvalidation> {
        let (stream, continuation) = AsyncStream<KeyInvalidation>.makeStream(
            bufferingPolicy: .bufferingNewest(Self.bufferLimit))
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ invalidation: KeyInvalidation) {
        let targets = subscribers.withLock { Array($0.values) }
        for continuation in targets {
            if case .dropped = continuation.yield(invalidation) {
                // The subscriber fell behind; something was lost, so ask it to start over.
                continuation.yield(.all)
            }
        }
    }

    func finish() {
        let targets = subscribers.withLock { subs in
            defer { subs.removeAll() }
            return Array(subs.values)
        }
        for continuation in targets { continuation.finish() }
    }
}
