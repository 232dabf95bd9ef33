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

    /// What the cache means for one request: answer it, fetch and store under `key`, or stay out.
    enum Lookup: Sendable {
        case hit(CachedAnswer)
        case miss(key: String)
        case bypass

        /// Where a fresh answer is stored, if anywhere.
        var storeKey: String? {
            if case .miss(let key) = self { return key }
            return nil
        }

        /// `x-tollgate-cache` for a response that did not come from the cache.
        var header: String { storeKey == nil ? "bypass" : "miss" }
    }

    /// The store key for key material: its SHA-256, so prompts never appear in key names.
    static func key(for material: [UInt8]) -> String { KeyCrypto.sha256Hex(material) }

    /// Combines the policy's decision with the client's `Cache-Control`; the decision (which builds
    /// the key material) is only taken when the client did not opt out.
    func consult(cacheControl: String?, decision: () -> CacheDecision, logger: Logger) async -> Lookup {
        let directive = ClientCacheDirective(cacheControl: cacheControl)
        guard directive != .bypass, case .cacheable(let material) = decision() else { return .bypass }
        let key = Self.key(for: material)
        if directive == .normal, let answer = await lookup(key, logger: logger) { return .hit(answer) }
        return .miss(key: key)
    }

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

    /// Started before the response goes out (ordered ahead of any later lookup, see
    /// `ResponseCache.startStoring`), so a repeat sent right after the answer hits, without the miss
    /// waiting for the store's reply.
    func store(_ answer: CachedAnswer, key: String, ttlSeconds: Int, logger: Logger) async {
        guard let value = answer.encoded() else { return }
        let metrics = self.metrics
        await cache.startStoring(value, forKey: key, ttlSeconds: ttlSeconds) { error in
            guard let error else { return }
            metrics.count("cache_errors", labels: [("operation", "store")])
            logger.warning("response cache store failed", metadata: ["cache.error": .string(error.description)])
        }
    }
}
