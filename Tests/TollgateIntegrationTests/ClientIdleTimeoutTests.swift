import Foundation
import Testing
import TollgateServer
#if canImport(Glibc)
import Glibc
#endif

/// Client connections that never finish a request are closed; requests in progress are not.
@Suite(.serialized) struct ClientIdleTimeoutTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func aConnectionThatNeverCompletesItsRequestHeadIsClosed() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks), clientIdleTimeout: .milliseconds(400)) { gw in
                let started = ContinuousClock.now
                let closed = try SlowClient.sendAndAwaitClose(
                    port: gw.port, bytes: "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n", waitSeconds: 5)
                #expect(closed)
                #expect(ContinuousClock.now - started < .seconds(3))
            }
        }
    }

    @Test func aRequestWaitingLongerThanTheIdleTimeoutForItsAnswerIsNotCut() async throws {
        try await GatewayHarness.withMocks([MockFaults(latencyMs: 1200)]) { mocks in
            try await GatewayHarness.withGateway(policy: GatewayHarness.policy(mocks: mocks), clientIdleTimeout: .milliseconds(400)) { gw in
                let reply = try await gw.chat("m0", content: "hello")
                #expect(reply.status == 200)
            }
        }
    }
}

/// A raw loopback TCP connection with a receive timeout: for framings and behaviours the libcurl
/// client never produces (partial heads, chunked request bodies).
enum LoopbackSocket {
    /// Connects to 127.0.0.1:`port` and sends `bytes`; nil if either fails. The caller closes the fd.
    static func connectAndSend(port: Int, bytes: String, waitSeconds: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: waitSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        let payload = Array(bytes.utf8)
        _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return fd
    }
}

/// A client that writes part of a request and then says nothing more.
enum SlowClient {
    /// True when the server closed the connection within `waitSeconds`.
    static func sendAndAwaitClose(port: Int, bytes: String, waitSeconds: Int) throws -> Bool {
        guard let fd = LoopbackSocket.connectAndSend(port: port, bytes: bytes, waitSeconds: waitSeconds) else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }  // orderly close by the server
            if n < 0 { return errno == ECONNRESET }  // reset counts as closed; a timeout does not
        }
    }
}

/// Sends raw bytes (for framings the libcurl client does not produce, such as a chunked request
/// body) and returns everything the server answers until it closes the connection.
enum RawHTTPClient {
    static func exchange(port: Int, bytes: String, waitSeconds: Int) throws -> String {
        guard let fd = LoopbackSocket.connectAndSend(port: port, bytes: bytes, waitSeconds: waitSeconds) else { return "" }
        defer { close(fd) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
