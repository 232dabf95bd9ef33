import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TollgateCore

/// An OpenAI-compatible fake provider for demos and tests.
///
/// Answers are deterministic (an echo of the last user message), usage numbers are derived
/// from the text, streams are real SSE, and faults (status, latency, stall, reset) are set
/// by flags, at runtime through `/mock/faults`, or per request.
public struct MockProvider: Sendable {
    final class State: Sendable {
        struct Recorded: Sendable {
            var headers: [(String, String)] = []
            var body: String = ""
        }
        let faults: Mutex<MockFaults>
        let counter = Mutex(0)
        let last = Mutex(Recorded())

        init(faults: MockFaults) { self.faults = Mutex(faults) }
    }

    let state: State
    let host: String
    let port: Int
    let name: String

    public init(host: String = "127.0.0.1", port: Int, faults: MockFaults = MockFaults(), name: String = "mock") {
        self.state = State(faults: faults)
        self.host = host
        self.port = port
        self.name = name
    }

    /// Requests served so far (for tests that count what reached a provider).
    public var requestCount: Int { state.counter.withLock { $0 } }

    public func setFaults(_ faults: MockFaults) { state.faults.withLock { $0 = faults } }

    public func makeApplication(logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>>
    {
        let router = Router(context: BasicRequestContext.self)
        let state = self.state
        let name = self.name
        router.post("/v1/chat/completions") { request, context in
            try await MockChatResponder(state: state, name: name).respond(request, context: context)
        }
        router.post("/v1/embeddings") { request, context in
            try await MockChatResponder(state: state, name: name).embeddings(request, context: context)
        }
        router.get("/v1/models") { _, _ in
            MockChatResponder.json(.object([("object", .string("list")), ("data", .array(["mock-small", "mock-large"].map {
                .object([("id", .string($0)), ("object", .string("model")), ("created", .number("1700000000")), ("owned_by", .string(name))])
            }))]))
        }
        router.get("/mock/last-request") { _, _ in
            let recorded = state.last.withLock { $0 }
            return MockChatResponder.json(.object([
                ("headers", .object(recorded.headers.map { ($0.0, .string($0.1)) })),
                ("body", .string(recorded.body)),
                ("count", .number(String(state.counter.withLock { $0 }))),
            ]))
        }
        router.post("/mock/faults") { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: 64 * 1024)
            let json = try? JSONParser.parse(Array(buffer.readableBytesView))
            let updated = state.faults.withLock { faults in
                faults = MockFaults().merging(json)
                return faults
            }
            return MockChatResponder.json(.object([("ok", .bool(true)), ("status", updated.status.map { .number(String($0)) } ?? .null)]))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 4096),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }
}
