/// Rejects requests curl would misinterpret before they reach the curl thread.
///
/// Header injection (CR/LF in a name or value) and non-HTTP schemes are refused here with a
/// clear `.invalidRequest`, rather than relying on curl's behaviour.
enum RequestValidation {
    static func validate(_ request: UpstreamRequest) throws(UpstreamError) {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(isTokenByte) else {
            throw .invalidRequest("method `\(request.method)` is not an HTTP token")
        }
        let lowered = request.url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw .invalidRequest("URL must start with http:// or https://")
        }
        guard request.url.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .invalidRequest("URL contains whitespace or control characters")
        }
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw .invalidRequest("header name `\(name)` is not an HTTP token")
            }
            guard value.utf8.allSatisfy({ $0 != 0x0D && $0 != 0x0A && $0 != 0 }) else {
                throw .invalidRequest("header `\(name)` has a value containing CR, LF or NUL")
            }
        }
        let t = request.timeouts
        guard t.connect > .zero, t.firstByte > .zero, t.total > .zero, t.idle > .zero else {
            throw .invalidRequest("timeouts must be positive")
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
