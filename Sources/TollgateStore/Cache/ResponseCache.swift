/// Where cached provider answers live: Redis when the gateway shares state, process memory on the
/// embedded store. Values are opaque bytes with a time to live; a missing or expired key is nil.
public protocol ResponseCache: Sendable {
    func cachedValue(forKey key: String) async throws -> [UInt8]?
    func storeValue(_ value: [UInt8], forKey key: String, ttlSeconds: Int) async throws
}
