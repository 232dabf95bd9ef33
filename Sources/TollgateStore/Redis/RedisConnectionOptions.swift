/// Connection behaviour shared by the pool's workers and the subscriber.
public struct RedisConnectionOptions: Sendable, Hashable {
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply before the connection is declared broken and every
    /// request waiting on it fails with `.unavailable`.
    public var commandTimeout: Duration
    /// First delay before reconnecting after a failure; doubles up to `maxBackoff`. While waiting,
    /// requests fail at once instead of piling up.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Requests one connection may have outstanding (sent and awaiting their replies, or waiting for a
    /// connection); beyond it `execute` throws `.overloaded`. Replies drain it at Redis' pace (about
    /// 100k small commands a second), so a burst of ten thousand concurrent requests fits.
    public var queueLimit: Int

    public init(
        connectTimeout: Duration = .milliseconds(1000), commandTimeout: Duration = .milliseconds(1000),
        initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(2), queueLimit: Int = 16_384
    ) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.queueLimit = max(1, queueLimit)
    }
}
