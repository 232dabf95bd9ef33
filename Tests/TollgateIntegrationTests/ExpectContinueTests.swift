import Foundation
import Testing
import TollgateServer
#if canImport(Glibc)
import Glibc
#endif

/// Clients that send `Expect: 100-continue` hold their body back until the server agrees.
@Suite(.serialized) struct ExpectContinueTests {
    init() { ProviderKeyEnvironment.install() }

    private static func head(length: Int) -> String {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(GatewayHarness.demoKey)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(length)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    }

    /// One read (the socket's receive timeout bounds it); empty on timeout or close.
    private static func firstAnswer(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test func aClientExpectingContinueGetsItBeforeSendingItsBody() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks)) { gw in
                let body = #"{"model":"m0","messages":[{"role":"user","content":"Hello there"}]}"#
                let fd = try #require(LoopbackSocket.connectAndSend(port: gw.port, bytes: Self.head(length: body.utf8.count), waitSeconds: 15))
                defer { close(fd) }
                let interim = Self.firstAnswer(fd)
                #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(interim.prefix(120))")
                _ = Array(body.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var rest = interim.range(of: "\r\n\r\n").map { String(interim[$0.upperBound...]) } ?? ""
                while true {
                    let more = Self.firstAnswer(fd)
                    if more.isEmpty { break }
                    rest += more
                }
                #expect(rest.hasPrefix("HTTP/1.1 200"), "\(rest.prefix(200))")
                #expect(rest.contains("chat.completion"))
            }
        }
    }

    @Test func aBodyDeclaredOverTheLimitGets413InsteadOfContinue() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "server: {max_body_bytes: 4096}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let fd = try #require(LoopbackSocket.connectAndSend(port: gw.port, bytes: Self.head(length: 10_000), waitSeconds: 15))
                defer { close(fd) }
                let answer = Self.firstAnswer(fd)
                #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(120))")
            }
        }
    }
}
