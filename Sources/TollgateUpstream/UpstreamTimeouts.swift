/// How long the gateway waits on a provider in each phase of a transfer.
///
/// The phases are separate because they fail for different reasons: a slow connect means the
/// provider (or the path to it) is down and failover should start quickly; a slow first byte is a
/// busy model; an idle stream is a provider that stopped mid-answer; the total caps the whole
/// exchange so no request holds a slot forever.
public struct UpstreamTimeouts: Sendable, Equatable {
    /// TCP + TLS handshake.
    public var connect: Duration
    /// From submission until the final response's status line and headers have arrived.
    public var firstByte: Duration
    /// From submission until the last body byte; covers streaming answers too.
    public var total: Duration
    /// Longest silence between body bytes once headers arrived. Time the transfer spends paused
    /// because the consumer is slow does not count: that is back-pressure, not a stalled provider.
    public var idle: Duration

    /// Defaults match the example provider timeouts in the policy file contract.
    public init(
        connect: Duration = .seconds(2), firstByte: Duration = .seconds(30),
        total: Duration = .seconds(120), idle: Duration = .seconds(30)
    ) {
        self.connect = connect
        self.firstByte = firstByte
        self.total = total
        self.idle = idle
    }
}
