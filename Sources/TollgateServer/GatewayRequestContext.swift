import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Per-request context: Hummingbird's core storage plus the id every response carries.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Random, unguessable and unique enough to correlate client reports with logs.
    public let requestID: String
    let maxBodyBytes: Int
    /// The client's connection, to notice it closing while the gateway waits on a provider.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = RequestIDGenerator.next()
        self.channel = source.channel
        self.maxBodyBytes = 64 * 1024 * 1024
        self.logger[metadataKey: "request.id"] = .string(requestID)
    }

    public var maxUploadSize: Int { maxBodyBytes }
}

/// Request ids: a random per-process prefix plus a counter, unique across replicas and
/// restarts without a system call per request.
enum RequestIDGenerator {
    private static let prefix: String = {
        var rng = SystemRandomNumberGenerator()
        return "req_" + hex(rng.next() as UInt64)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + hex(n)
    }

    private static func hex(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
