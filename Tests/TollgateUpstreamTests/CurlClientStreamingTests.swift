import Testing

@testable import TollgateUpstream

@Suite struct CurlClientStreamingTests {
    @Test func firstChunkArrivesBeforeServerSendsTheLast() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3&gate=first")))
            #expect(response.status == 200)
            var iterator = response.body.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first?.text == "data: chunk-0\n\n")
            #expect(!server.sentFinalChunk("first"))
            server.openGate("first")
            var rest: [UInt8] = []
            while let chunk = try await iterator.next() { rest += chunk }
            #expect(rest.text == "data: chunk-1\n\ndata: chunk-2\n\n")
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func cancellingBeforeHeadersReleasesTheTransfer() async throws {
        try await withClientAndServer { client, server in
            let task = Task {
                await upstreamError { try await client.execute(UpstreamRequest(url: server.url("/delay-headers?ms=3000"))) }
            }
            #expect(await eventually { client.activeTransfers == 1 })
            let started = ContinuousClock.now
            task.cancel()
            #expect(await task.value == .cancelled)
            #expect(await eventually(within: .seconds(1)) { client.activeTransfers == 0 })
            #expect(ContinuousClock.now - started < .seconds(1))
        }
    }

    @Test func cancellingTheBodyReleasesTheTransfer() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3&gate=never-opened")))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            #expect(client.activeTransfers == 1)
            response.body.cancel()
            let error = await upstreamError { try await iterator.next() }
            #expect(error == .cancelled)
            #expect(await eventually(within: .seconds(1)) { client.activeTransfers == 0 })
        }
    }

    @Test func droppingTheResponseReleasesTheTransfer() async throws {
        try await withClientAndServer { client, server in
            do {
                let response = try await client.execute(
                    UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3&gate=never-opened")))
                var iterator = response.body.makeAsyncIterator()
                _ = try await iterator.next()
                #expect(client.activeTransfers == 1)
            }
            #expect(await eventually(within: .seconds(1)) { client.activeTransfers == 0 })
        }
    }

    @Test func cancellingTheConsumingTaskReleasesTheTransfer() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3&gate=never-opened")))
            let consumer = Task {
                await upstreamError { try await response.body.collect(upTo: 1 << 20) }
            }
            try await Task.sleep(for: .milliseconds(100))
            consumer.cancel()
            #expect(await consumer.value == .cancelled)
            #expect(await eventually(within: .seconds(1)) { client.activeTransfers == 0 })
        }
    }

    @Test func slowHeadersFailWithFirstByteTimeout() async throws {
        try await withClientAndServer { client, server in
            let started = ContinuousClock.now
            let error = await upstreamError {
                try await client.execute(
                    UpstreamRequest(
                        url: server.url("/delay-headers?ms=3000"),
                        timeouts: UpstreamTimeouts(firstByte: .milliseconds(300))))
            }
            #expect(error == .timeout(phase: .firstByte))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(2))
            #expect(client.activeTransfers == 0)
        }
    }

    @Test func silentBodyFailsWithIdleTimeout() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(
                    method: "GET", url: server.url("/stall-body?ms=3000"),
                    timeouts: UpstreamTimeouts(idle: .milliseconds(300))))
            var iterator = response.body.makeAsyncIterator()
            #expect(try await iterator.next()?.text == "data: first\n\n")
            let started = ContinuousClock.now
            let error = await upstreamError { try await iterator.next() }
            #expect(error == .timeout(phase: .idle))
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func longStreamFailsWithTotalTimeout() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(
                    method: "GET", url: server.url("/slow-stream?chunks=50&delay-ms=50"),
                    timeouts: UpstreamTimeouts(total: .milliseconds(600), idle: .seconds(5))))
            let error = await upstreamError { try await response.body.collect(upTo: 1 << 20) }
            #expect(error == .timeout(phase: .total))
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func resetMidBodyIsThrownNotTruncated() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(UpstreamRequest(method: "GET", url: server.url("/reset")))
            #expect(response.status == 200)
            var received = 0
            var iterator = response.body.makeAsyncIterator()
            let error = await upstreamError {
                while let chunk = try await iterator.next() { received += chunk.count }
            }
            guard case .transferFailed = error else {
                Issue.record("expected transferFailed, got \(String(describing: error))")
                return
            }
            #expect(received <= 10_000)
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func slowConsumerKeepsTheBufferBounded() async throws {
        let limits = BodyBuffer.Limits(maxChunks: 16, maxBytes: 256 * 1024)
        try await withClientAndServer(bodyLimits: limits) { client, server in
            let total = 20 * 1024 * 1024
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/big?bytes=\(total)")))
            // Let the server race ahead while nobody reads.
            try await Task.sleep(for: .milliseconds(300))
            var received = 0
            var chunks = 0
            for try await chunk in response.body {
                received += chunk.count
                chunks += 1
                if chunks % 64 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(received == total)
            // Bound: the limit plus the one chunk curl hands over when resuming.
            #expect(response.body.peakBufferedBytes <= limits.maxBytes + 64 * 1024)
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }

    @Test func timePausedForASlowConsumerIsNotIdleTime() async throws {
        let limits = BodyBuffer.Limits(maxChunks: 4, maxBytes: 64 * 1024)
        try await withClientAndServer(bodyLimits: limits) { client, server in
            let total = 4 * 1024 * 1024
            let response = try await client.execute(
                UpstreamRequest(
                    method: "GET", url: server.url("/big?bytes=\(total)"),
                    timeouts: UpstreamTimeouts(idle: .milliseconds(200))))
            try await Task.sleep(for: .milliseconds(700))  // paused far longer than `idle`
            #expect(try await response.body.collect(upTo: total).count == total)
        }
    }

    @Test func collectRefusesBodiesOverTheLimit() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/big?bytes=\(4 * 1024 * 1024)")))
            let error = await upstreamError { try await response.body.collect(upTo: 100_000) }
            guard case .transferFailed = error else {
                Issue.record("expected transferFailed, got \(String(describing: error))")
                return
            }
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }
}

@Suite struct CurlClientBodyLifetimeTests {
    @Test func iteratorKeepsTheBodyAliveWithoutTheResponse() async throws {
        try await withClientAndServer { client, server in
            var iterator = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3"))
            ).body.makeAsyncIterator()
            var text = ""
            while let chunk = try await iterator.next() { text += chunk.text }
            #expect(text == "data: chunk-0\n\ndata: chunk-1\n\ndata: chunk-2\n\n")
        }
    }

    @Test func droppingTheIteratorReleasesTheTransferEvenWhileTheBodyIsHeld() async throws {
        try await withClientAndServer { client, server in
            let response = try await client.execute(
                UpstreamRequest(method: "GET", url: server.url("/stream?chunks=3&gate=never-opened")))
            for try await _ in response.body { break }
            #expect(await eventually(within: .seconds(1)) { client.activeTransfers == 0 })
            withExtendedLifetime(response) {}
        }
    }
}

@Suite struct CurlClientCancellationStressTests {
    @Test func manyStreamsStoppedInDifferentWaysLeaveNoTransferBehind() async throws {
        try await withClientAndServer { client, server in
            let url = server.url("/stream?chunks=3&gate=stress-never-opened")
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let task = Task {
                            let response = try await client.execute(UpstreamRequest(method: "GET", url: url))
                            var iterator = response.body.makeAsyncIterator()
                            _ = try await iterator.next()
                            switch index % 3 {
                            case 0: response.body.cancel()
                            case 1: _ = try await iterator.next()  // waits until the task is cancelled
                            default: break  // dropped
                            }
                        }
                        if index % 3 == 1 {
                            try? await Task.sleep(for: .milliseconds(200))
                            task.cancel()
                        }
                        _ = await task.result
                    }
                }
            }
            #expect(await eventually { client.activeTransfers == 0 })
        }
    }
}
