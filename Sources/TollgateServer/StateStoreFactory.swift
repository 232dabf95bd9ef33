import Foundation
import Logging
import TollgateCore
import TollgateStore

/// Chooses the state store: Redis when a URL is given (flag, env or policy), else the
/// embedded store persisted under the data directory.
enum StateStoreFactory {
    static func make(configuration: GatewayConfiguration, policy: PolicySnapshot, logger: Logger) throws -> any StateStore {
        let url = configuration.redisURL ?? (policy.state.backend == .redis ? policy.state.url : nil)
        if let url {
            logger.info("state store: redis", metadata: ["redis.url": .string(RedisURLRedaction.redacted(url))])
            return RedisStore(configuration: try RedisStoreConfiguration(url: url))
        }
        logger.info("state store: embedded", metadata: ["store.data_dir": .string(configuration.dataDirectory)])
        return try MemoryStore(dataDirectory: configuration.dataDirectory)
    }
}

/// Hides the password of a Redis URL before it reaches a log line.
enum RedisURLRedaction {
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***" + String(url[at...])
    }
}
