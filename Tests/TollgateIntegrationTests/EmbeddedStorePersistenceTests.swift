import Foundation
import Testing
import TollgateServer
import TollgateStore
import TollgateUpstream

/// The embedded store's counters snapshot failing (a full or read-only data disk) is visible through
/// HTTP, requests keep being served, and the report clears once the disk takes writes again.
@Suite(.serialized) struct EmbeddedStorePersistenceTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func aFailingCountersSnapshotShowsInStatusWhileRequestsAreServed() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let dataDirectory = try GatewayHarness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
            let policy = GatewayHarness.policy(mocks: mocks, teamExtra: "    rpm: 1000\n")
            try await GatewayHarness.withGateway(policy: policy, dataDirectory: dataDirectory) { gw in
                // `counters.json` as a directory: the atomic rename of every snapshot fails, as on a
                // full disk (a read-only directory would not do: the tests may run as root).
                let blocker = dataDirectory + "/" + MemoryStore.countersFileName
                try? FileManager.default.removeItem(atPath: blocker)
                try FileManager.default.createDirectory(atPath: blocker + "/occupied", withIntermediateDirectories: true)
                #expect(try await gw.chat("m0").status == 200)
                var error: Any? = NSNull()
                for _ in 0..<50 where error is NSNull {
                    try await Task.sleep(for: .milliseconds(100))
                    error = try await persistenceError(gw)
                }
                #expect((error as? String)?.isEmpty == false, "the failing snapshot is reported: \(String(describing: error))")
                #expect(try await gw.chat("m0").status == 200, "requests are served while the disk refuses the snapshot")
                try FileManager.default.removeItem(atPath: blocker)
                for _ in 0..<50 where !(error is NSNull) {
                    try await Task.sleep(for: .milliseconds(100))
                    error = try await persistenceError(gw)
                }
                #expect(error is NSNull, "cleared once a snapshot is written")
                #expect(FileManager.default.fileExists(atPath: blocker))
            }
        }
    }

    private func persistenceError(_ gateway: RunningGateway) async throws -> Any? {
        let status = try await gateway.request("GET", "/admin/status", key: "test-admin-token")
        return (status.json?["store"] as? [String: Any])?["counters_persistence_error"]
    }
}
