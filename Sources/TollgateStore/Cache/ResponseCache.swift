/// Where cached provider answers live: Redis when the gateway shares state, process memory on the
/// embedded store. Values are opaque bytes with a time to live; a missing or expired key is nil.
public protocol ResponseCache: Sendable {
    func cachedValue(forKey key: String) async throws -> [UInt8]?
    func storeValue(_ value: [UInt8], forKey key: String, ttlSeconds: Int) async throws
    func startStoring(_ value: [UInt8], forKey key: String, ttlSeconds: Int, completion: @escaping @Sendable (StoreError?) -> Void) async
}

extension ResponseCache {
    /// Starts a store without waiting for it: once this returns the value is stored or already on
    /// its way ahead of any later read (Redis: the SET is on the socket), so a repeat sent right after
    /// the answer finds it, and the miss does not pay a second round trip. `completion` gets nil or
    /// the error, possibly on another thread. This default, for caches without an ordered write, waits.
    public func startStoring(_ value: [UInt8], forKey key: String, ttlSeconds: Int, completion: @escaping @Sendable (StoreError?) -> Void) async {
        do {
            try await storeValue(value, forKey: key, ttlSeconds: ttlSeconds)
            completion(nil)
        } catch {
            completion(error as? StoreError ?? .unavailable(String(describing: error)))
        }
    }
}
