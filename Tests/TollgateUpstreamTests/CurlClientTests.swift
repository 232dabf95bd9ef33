import Testing

@testable import TollgateUpstream

@Suite struct CurlClientTests {
    @Test func postSendsBodyAndHeadersAndReturnsLowercasedResponseHeaders() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(
                    url: server.url("/echo"), headers: [("Content-Type", "application/json"), ("X-Test", "abc")],
                    body: Array(#"{"hello":"world"}"#.utf8)))
            #expect(response.status == 200)
            #expect(response.header("x-echo-test") == "abc")
            #expect(response.header("X-Method") == "POST")
            #expect(response.headers.allSatisfy { $0.0 == $0.0.lowercased() })
            #expect(response.headers.contains { $0.0 == "content-type" && $0.1 == "application/json" })
            let body = try await response.body.collect(upTo: 1 << 20)
            #expect(body.text == #"{"hello":"world"}"#)
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func largePostIsSentWithoutExpectContinue() async throws {
        try await withClientAndServer { client, server in
            let payload = [UInt8]((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
            let response = try await client.execute(UpstreamRequest(url: server.url("/echo"), body: payload))
            #expect(response.header("x-saw-expect") == "no")
            #expect(try await response.body.collect(upTo: 1 << 20) == payload)
        }
    }

    @Test func getRequestUsesGetMethod() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(UpstreamRequest(method: "GET", url: server.url("/echo")))
            #expect(response.header("x-method") == "GET")
            #expect(try await response.body.collect(upTo: 1024).isEmpty)
        }
    }

    @Test func interimResponsesDoNotLeakIntoFinalHeaders() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(UpstreamRequest(method: "GET", url: server.url("/continue")))
            #expect(response.status == 201)
            #expect(response.header("x-final") == "yes")
            #expect(response.header("link") == nil)
            #expect(try await response.body.collect(upTo: 1024).text == "ok")
        }
    }

    @Test func connectionRefusedFailsAsConnectFailed() async throws {
        // Bind to learn a free port, then stop listening so the connect is refused.
        let server = try TestHTTPServer()
        let url = server.url("/json")
        server.stop()
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await upstreamError { try await client.execute(UpstreamRequest(url: url)) }
        guard case .connectFailed = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(client.activeTransfers == 0)
    }

    @Test(arguments: [
        UpstreamRequest(url: "ftp://127.0.0.1/x"),
        UpstreamRequest(url: "http://127.0.0.1/a b"),
        UpstreamRequest(url: "http://127.0.0.1/", headers: [("X-Bad", "a\r\nInjected: yes")]),
        UpstreamRequest(url: "http://127.0.0.1/", headers: [("Bad Name", "v")]),
        UpstreamRequest(method: "PO ST", url: "http://127.0.0.1/"),
    ])
    func malformedRequestsAreRejectedBeforeSending(request: UpstreamRequest) async {
        let client = CurlClient()
        defer { client.shutdown() }
        let error = await upstreamError { try await client.execute(request) }
        guard case .invalidRequest = error else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        try await withClientAndServer { client, server in
            for _ in 0..<20 {
                let response = try await client.execute(UpstreamRequest(url: server.url("/json")))
                #expect(try await response.body.collect(upTo: 1024).text == #"{"ok":true}"#)
            }
            #expect(server.acceptedConnections == 1)
        }
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        try await withClientAndServer { client, server in
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do {
                            let payload = Array("request-\(index)".utf8)
                            let response = try await client.execute(
                                UpstreamRequest(url: server.url("/echo"), body: payload))
                            return try await response.body.collect(upTo: 1024) == payload
                        } catch {
                            return false
                        }
                    }
                }
                var all: [Bool] = []
                for await result in group { all.append(result) }
                return all
            }
            #expect(results.count == 200)
            #expect(results.allSatisfy { $0 })
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func executeAfterShutdownThrowsCancelled() async throws {
        let client = CurlClient()
        client.shutdown()
        let error = await upstreamError { try await client.execute(UpstreamRequest(url: "http://127.0.0.1:9/")) }
        #expect(error == .cancelled)
    }

    @Test func shutdownFailsInFlightTransfers() async throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = CurlClient()
        let task = Task {
            await upstreamError { try await client.execute(UpstreamRequest(url: server.url("/delay-headers?ms=2000"))) }
        }
        #expect(await eventually { client.activeTransfers == 1 })
        client.shutdown()
        #expect(await task.value == .cancelled)
        #expect(client.activeTransfers == 0)
    }
}

@Suite struct CurlClientConnectTimeoutTests {
    @Test func unansweredConnectFailsWithConnectTimeout() async throws {
        // A listener that never accepts, with its backlog filled: further SYNs are dropped, so
        // the client's TCP handshake cannot complete.
        let blackhole = try Blackhole()
        defer { blackhole.close() }
        let client = CurlClient()
        defer { client.shutdown() }
        let started = ContinuousClock.now
        let error = await upstreamError {
            try await client.execute(
                UpstreamRequest(
                    url: "http://127.0.0.1:\(blackhole.port)/",
                    timeouts: UpstreamTimeouts(connect: .milliseconds(300), firstByte: .seconds(5))))
        }
        #expect(error == .timeout(phase: .connect))
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(client.activeTransfers == 0)
    }
}
