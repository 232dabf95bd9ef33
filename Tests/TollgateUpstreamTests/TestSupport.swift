import Testing

@testable import TollgateUpstream

/// Polls `condition` until it holds or `timeout` passes; for state that settles on the curl thread.
func eventually(within timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Runs `body` with a fresh client and server, then shuts both down.
func withClientAndServer<T>(
    bodyLimits: BodyBuffer.Limits = .standard,
    _ body: (CurlClient, TestHTTPServer) async throws -> T
) async throws -> T {
    let server = try TestHTTPServer()
    let client = CurlClient(threads: 1, maxConnections: 64, bodyLimits: bodyLimits)
    defer {
        client.shutdown()
        server.stop()
    }
    return try await body(client, server)
}

/// The error an async expression threw, or nil if it did not throw; any error other than an
/// `UpstreamError` is recorded as a test failure.
func upstreamError<T>(_ operation: () async throws -> T) async -> UpstreamError? {
    do {
        _ = try await operation()
        return nil
    } catch let error as UpstreamError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
