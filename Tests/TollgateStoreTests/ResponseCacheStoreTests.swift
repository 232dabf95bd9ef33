import Foundation
import Testing
import TollgateStore

/// Both response cache backends keep values for their time to live and stay within their bounds.
@Suite struct ResponseCacheStoreTests {
    @Test func memoryCacheReturnsWhatWasStoredUntilItExpires() async throws {
        let cache = MemoryResponseCache()
        #expect(try await cache.cachedValue(forKey: "k") == nil)
        try await cache.storeValue([1, 2, 3], forKey: "k", ttlSeconds: 1)
        #expect(try await cache.cachedValue(forKey: "k") == [1, 2, 3])
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await cache.cachedValue(forKey: "k") == nil)
    }

    @Test func memoryCacheEvictsOldestEntriesBeyondItsByteBound() async throws {
        let cache = MemoryResponseCache(maxBytes: 10_000)
        for i in 0..<100 { try await cache.storeValue(Array(repeating: UInt8(i), count: 1_000), forKey: "k\(i)", ttlSeconds: 60) }
        #expect(cache.count <= 10)
        #expect(try await cache.cachedValue(forKey: "k0") == nil)
        #expect(try await cache.cachedValue(forKey: "k99") == Array(repeating: 99, count: 1_000))
        // Storing the same key again and again keeps one entry.
        for _ in 0..<5_000 { try await cache.storeValue([7], forKey: "same", ttlSeconds: 60) }
        #expect(try await cache.cachedValue(forKey: "same") == [7])
        #expect(cache.count <= 11)
    }

    @Test(.enabled(if: RedisServerFixture.shouldRun, "redis-server is not installed; Redis tests skipped (they fail when CI is set)"))
    func redisCacheStoresBinaryValuesWithTheirTTL() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let store = RedisStore(configuration: try RedisStoreConfiguration(url: server.url))
        let value: [UInt8] = [0, 13, 10, 255, 36, 42]
        #expect(try await store.cachedValue(forKey: "abc") == nil)
        try await store.storeValue(value, forKey: "abc", ttlSeconds: 30)
        #expect(try await store.cachedValue(forKey: "abc") == value)
        let ttl = try #require(Int(try server.command(["TTL", "tollgate:cache:abc"])))
        #expect(ttl > 25 && ttl <= 30)
        await store.shutdown()
    }
}
