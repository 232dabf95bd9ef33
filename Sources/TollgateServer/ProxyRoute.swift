import TollgateCore

/// Where one attempt goes: the provider's settings and the upstream model name.
struct ResolvedTarget: Sendable {
    let target: TargetSettings
    let provider: ProviderSettings
}

/// The outcome of picking what serves a request: the served model, the variant and its
/// ordered targets, and how the choice was made (for `x-tollgate-route`).
struct RoutePlan: Sendable {
    var requestedModel: String
    var servedModel: String
    var variant: VariantSettings
    var variantIndex: Int
    var targets: [ResolvedTarget]
    var routeHeader: String?
    /// What keeps this client on one canary variant (key id, `user`, or nil), reused on degradation.
    var stickyID: String?
}
