import Foundation
import Logging
import TollgateCore
import TollgateStore

/// Chooses the state store: Redis when a URL is given (flag, env or policy), else the
/// embedded store persisted under the data directory; `backend: redis` with no URL anywhere
/// is a startup error.
enum StateStoreFactory {
    static func make(configuration: GatewayConfiguration, policy: PolicySnapshot, logger: Logger) throws -> any StateStore {
        let url = configuration.redisURL ?? (policy.state.backend == .redis ? policy.state.url : nil)
        if url == nil, policy.state.backend == .redis { throw MissingRedisURL() }
        if let url {
            logger.info("state store: redis", metadata: ["redis.url": .string(RedisURLRedaction.redacted(url))])
            return RedisStore(configuration: try RedisStoreConfiguration(url: url))
        }
        logger.info("state store: embedded", metadata: ["store.data_dir": .string(configuration.dataDirectory)])
        return try MemoryStore(dataDirectory: configuration.dataDirectory, logger: logger)
    }
}

/// The policy asks for the Redis backend but no URL was given anywhere. Startup stops rather
/// than quietly falling back to the embedded store, which would split replicas' limits.
struct MissingRedisURL: Error, CustomStringConvertible {
    var description: String {
        "state.backend is redis but no Redis URL was given: set state.url in the policy, pass --redis, or set TOLLGATE_REDIS_URL"
    }
}

/// Hides the password of a Redis URL before it reaches a log line.
enum RedisURLRedaction {
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }
}
