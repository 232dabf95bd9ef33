import Foundation
import Testing
import TollgateCore
import TollgateStore

struct KeyCacheTests {
    @Test func revocationDropsTheCachedRecordAtOnce() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let cache = KeyCache(store: store, ttl: .seconds(3600))
        let runner = Task { await cache.run() }
        defer { runner.cancel() }
        let (_, record) = try StoreTestSupport.record()
        try await store.insertKey(record)
        #expect(try await cache.record(hash: record.hash)?.revokedAt == nil)
        #expect(cache.count == 1)
        _ = try await store.revokeKey(id: record.id, at: Date())
        let deadline = ContinuousClock.now + .seconds(1)
        while cache.count > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(cache.count == 0)
        #expect(try await cache.record(hash: record.hash)?.revokedAt != nil)
    }

    @Test func unknownHashesAreCachedOnlyBriefly() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let cache = KeyCache(store: store, negativeTTL: .milliseconds(50))
        let (_, record) = try StoreTestSupport.record()
        #expect(try await cache.record(hash: record.hash) == nil)
        try await store.insertKey(record)
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await cache.record(hash: record.hash) == record)
    }

    @Test func allInvalidationEmptiesTheCache() async throws {
        let store = try MemoryStore(dataDirectory: nil)
        let cache = KeyCache(store: store)
        for _ in 0..<3 {
            let (_, record) = try StoreTestSupport.record()
            try await store.insertKey(record)
            _ = try await cache.record(hash: record.hash)
        }
        #expect(cache.count == 3)
        cache.invalidate(.all)
        #expect(cache.count == 0)
    }
}
