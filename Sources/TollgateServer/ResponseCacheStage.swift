import Logging
import TollgateCore
import TollgateStore

/// Looks answers up in the response cache and stores new ones, never failing a request over it.
///
/// A cache that cannot answer (Redis down, a value this version cannot read) is a miss, counted in
/// `tollgate_cache_errors_total`.
struct ResponseCacheStage: Sendable {
    let cache: any ResponseCache
    let metrics: GatewayMetrics

    /// The store key for key material: its SHA-256, so prompts never appear in key names.
    static func key(for material: [UInt8]) -> String { KeyCrypto.sha256Hex(material) }

    func lookup(_ key: String, logger: Logger) async -> CachedAnswer? {
        do {
            guard let bytes = try await cache.cachedValue(forKey: key) else {
                metrics.count("cache_lookups", labels: [("result", "miss")])
                return nil
            }
            guard let answer = CachedAnswer(decoding: bytes) else {
                metrics.count("cache_errors", labels: [("operation", "decode")])
                return nil
            }
            metrics.count("cache_lookups", labels: [("result", "hit")])
            return answer
        } catch {
            metrics.count("cache_errors", labels: [("operation", "lookup")])
            logger.warning("response cache lookup failed; answering from the provider", metadata: ["cache.error": .string(String(describing: error))])
            return nil
        }
    }

    /// Stored before the response goes out: a repeat sent right after the answer must find it, and
    /// one store round trip is nothing next to the provider call this miss just made.
    func store(_ answer: CachedAnswer, key: String, ttlSeconds: Int, logger: Logger) async {
        guard let value = answer.encoded() else { return }
        do {
            try await cache.storeValue(value, forKey: key, ttlSeconds: ttlSeconds)
        } catch {
            metrics.count("cache_errors", labels: [("operation", "store")])
            logger.warning("response cache store failed", metadata: ["cache.error": .string(String(describing: error))])
        }
    }
}
