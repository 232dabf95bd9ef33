import CCurl

/// `curl_global_init` must run once before any other curl call; Swift runs a global's
/// initializer exactly once, thread-safely, on first use.
enum CurlGlobal {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    static func ensureInitialized() {
        _ = initialized
    }
}
