import Logging

/// How a `RedisStore` connects and behaves.
public struct RedisStoreConfiguration: Sendable {
    /// Connection loss and recovery are logged here (once per transition, never per request; the URL's
    /// password is never logged).
    public var logger: Logger
    public var url: RedisURL
    /// Pipelined connections for commands (the subscriber has its own, extra one).
    public var poolSize: Int
    public var connection: RedisConnectionOptions
    /// Namespace of every key and of the invalidation channel.
    public var keyPrefix: String
    /// Whose clock drives GCRA: `.server` (Redis `TIME`, default) keeps replicas with skewed clocks
    /// exactly consistent; `.caller` uses the `now` passed to `admit` (tests with an injected clock).
    /// Budget periods always follow the caller's `now`.
    public var clock: RedisClock

    public init(
        url: RedisURL, poolSize: Int = 2, connection: RedisConnectionOptions = RedisConnectionOptions(),
        keyPrefix: String = "tollgate", clock: RedisClock = .server,
        logger: Logger = Logger(label: "tollgate.store.redis")
    ) {
        self.logger = logger
        self.url = url
        self.poolSize = max(1, poolSize)
        self.connection = connection
        self.keyPrefix = keyPrefix
        self.clock = clock
    }

    /// Parses `redis://[:password@]host:port[/db]`; throws `StoreError.invalidArgument`.
    public init(url: String) throws {
        self.init(url: try RedisURL(parsing: url))
    }
}

/// Which clock the Redis rate-limit script reads.
public enum RedisClock: Sendable, Hashable {
    case server
    case caller
}
