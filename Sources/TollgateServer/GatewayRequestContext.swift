import Hummingbird
import Logging
import NIOCore

/// Per-request context: Hummingbird's core storage plus the id every response carries.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Random, unguessable and unique enough to correlate client reports with logs.
    public let requestID: String
    let maxBodyBytes: Int

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = RequestIDGenerator.next()
        self.maxBodyBytes = 64 * 1024 * 1024
        self.logger[metadataKey: "request.id"] = .string(requestID)
    }

    public var maxUploadSize: Int { maxBodyBytes }
}

enum RequestIDGenerator {
    static func next() -> String {
        var rng = SystemRandomNumberGenerator()
        let a = rng.next() as UInt64
        let b = rng.next() as UInt64
        return "req_" + hex(a) + hex(b)
    }

    private static func hex(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
