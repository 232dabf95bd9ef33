/// What a client's `Cache-Control` request header asks of the response cache, with HTTP's meaning:
/// `no-cache` (or `max-age=0`) forces a fresh answer, which then replaces the stored one; `no-store`
/// keeps the request and its answer out of the cache entirely. Anything else leaves the policy in charge.
public enum ClientCacheDirective: Sendable, Equatable {
    case normal
    case refresh
    case bypass

    public init(cacheControl: String?) {
        guard let cacheControl else {
            self = .normal
            return
        }
        let directives = cacheControl.lowercased().split(separator: ",").map { $0.filter { $0 != " " && $0 != "\t" } }
        if directives.contains("no-store") {
            self = .bypass
        } else if directives.contains("no-cache") || directives.contains("max-age=0") {
            self = .refresh
        } else {
            self = .normal
        }
    }
}
