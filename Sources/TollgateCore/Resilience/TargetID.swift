/// One place a request can be sent: a provider plus the model name that provider knows.
///
/// Breakers, `Retry-After` deadlines and failover all work per target rather than per provider,
/// because one provider can serve a healthy model next to an overloaded one.
public struct TargetID: Hashable, Sendable, CustomStringConvertible {
    public var provider: String
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    /// `provider/model`, the form used in logs, metrics labels and `/admin/status`.
    public var description: String { "\(provider)/\(model)" }
}
