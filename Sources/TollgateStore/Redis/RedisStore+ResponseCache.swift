/// The response cache on the same Redis as the shared state: replicas answer each other's repeats.
/// Values are plain strings with an expiry (`SET … EX`), so Redis' own eviction policy applies.
extension RedisStore: ResponseCache {
    public func cachedValue(forKey key: String) async throws -> [UInt8]? {
        switch try await pool.execute(RedisCommand(["GET", keys.cachedAnswer(digest: key)])) {
        case .string(let bytes): return bytes
        case .null: return nil
        default: throw StoreError.unavailable("unexpected reply to a cache read")
        }
    }

    public func storeValue(_ value: [UInt8], forKey key: String, ttlSeconds: Int) async throws {
        _ = try await pool.execute(setCommand(value, forKey: key, ttlSeconds: ttlSeconds))
    }

    /// The SET is written to the socket before this returns; its reply is only checked.
    public func startStoring(_ value: [UInt8], forKey key: String, ttlSeconds: Int, completion: @escaping @Sendable (StoreError?) -> Void) async {
        pool.send(setCommand(value, forKey: key, ttlSeconds: ttlSeconds)) { result in
            if case .failure(let error) = result { completion(error) } else { completion(nil) }
        }
    }

    private func setCommand(_ value: [UInt8], forKey key: String, ttlSeconds: Int) -> RedisCommand {
        var writer = RESPWriter(capacity: value.count + 128)
        writer.append("SET")
        writer.append(keys.cachedAnswer(digest: key))
        value.withUnsafeBufferPointer { writer.append(bytes: $0) }
        writer.append("EX")
        writer.append(max(1, ttlSeconds))
        return RedisCommand(written: writer)
    }
}
