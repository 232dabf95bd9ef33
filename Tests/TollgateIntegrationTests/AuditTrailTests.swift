import Foundation
import Logging
import Synchronization
import Testing
import TollgateCore
import TollgateServer

/// The audit trail through real requests: what is recorded, what never is, and that the
/// hash chain catches tampering.
@Suite(.serialized) struct AuditTrailTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func requestsAreRecordedInAVerifiableChainWithoutPromptText() async throws {
        try await GatewayHarness.withMocks([MockFaults(resetAfterChunks: 2)]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "audit: {path: audit/audit.jsonl, fsync: always}\n", teamExtra: "    models: [m0]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let secretPrompt = "my-secret-prompt-text-42"
                let ok = try await gw.chat("m0", content: secretPrompt)
                #expect(ok.status == 200)
                let broken = try await gw.chat("m0", content: "one two three four five", stream: true)
                #expect(broken.text.contains("\"error\""))
                let refused = try await gw.chat("chain", content: secretPrompt)
                #expect(refused.status == 403)
                let path = GatewayHarness.directory(of: gw.policyPath) + "/audit/audit.jsonl"
                var text = ""
                for _ in 0..<50 {
                    text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    if text.split(separator: "\n").count >= 3 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let lines = text.split(separator: "\n")
                #expect(lines.count >= 3)
                #expect(!text.contains(secretPrompt))
                #expect(!text.contains(GatewayHarness.demoKey))
                #expect(text.contains(ok.header("x-request-id") ?? "missing"))
                #expect(text.contains("\"outcome\":\"provider_error"))
                #expect(text.contains("\"error_code\":\"model_not_allowed\""))
                #expect(AuditChain.verify(Data(text.utf8)) == nil)

                var tampered = lines.map(String.init)
                tampered[1] = tampered[1].replacingOccurrences(of: "\"stream\":true", with: "\"stream\":false")
                let problem = AuditChain.verify(Data(tampered.joined(separator: "\n").utf8))
                #expect(problem?.line == 2)
                var dropped = lines.map(String.init)
                dropped.remove(at: 1)
                #expect(AuditChain.verify(Data(dropped.joined(separator: "\n").utf8))?.line == 2)
            }
        }
    }
}

extension AuditTrailTests {
    @Test func embeddingsAndRefusalsOfAValidKeyAreRecordedWithTheKeyAndTeam() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "audit: {path: audit/audit.jsonl, fsync: always}\n", teamExtra: "    models: [m0]\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                let embedded = try await gw.request("POST", "/v1/embeddings", body: #"{"model":"m0","input":"audited text"}"#)
                #expect(embedded.status == 200)
                let refused = try await gw.request("POST", "/v1/embeddings", body: #"{"model":"chain","input":"not allowed"}"#)
                #expect(refused.status == 403)
                let anonymous = try await gw.chat("m0", key: "sk-tg-not-a-key-0000000000000000000000")
                #expect(anonymous.status == 401)
                let path = GatewayHarness.directory(of: gw.policyPath) + "/audit/audit.jsonl"
                var records: [JSONValue] = []
                for _ in 0..<50 {
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    records = text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
                    if records.count >= 3 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let byRequest = { (reply: RunningGateway.Reply) in records.first { $0["request_id"]?.stringValue == reply.header("x-request-id") } }
                let served = try #require(byRequest(embedded))
                #expect(served["event"]?.stringValue == "embeddings" && served["outcome"]?.stringValue == "completed")
                #expect(served["team"]?.stringValue == "t1" && served["prompt_tokens"] != nil && served["prompt_tokens"] != .null)
                let blocked = try #require(byRequest(refused))
                #expect(blocked["event"]?.stringValue == "embeddings" && blocked["error_code"]?.stringValue == "model_not_allowed")
                #expect(blocked["team"]?.stringValue == "t1" && blocked["key_id"]?.stringValue != nil)
                let unknown = try #require(byRequest(anonymous))
                #expect(unknown["error_code"]?.stringValue == "invalid_api_key" && unknown["key_id"] == .null)
            }
        }
    }
}

/// The trail's file handling: restarts continue the chain, a crash's torn line and a damaged file
/// are recovered from, and a failing disk never takes the gateway down.
@Suite struct AuditTrailFileTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    private func write(_ count: Int, to path: String, from first: Int = 0) throws {
        let trail = try AuditTrail(path: path, fsync: .batch, logger: Self.logger)
        for index in first..<(first + count) { trail.record([("n", .number(String(index))), ("pad", .string(String(repeating: "x", count: 120)))]) }
        trail.close()
    }

    private func lines(_ path: String) throws -> [JSONValue] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
    }

    @Test func aRestartContinuesTheChainReadingOnlyTheEndOfALongTrail() throws {
        let path = try GatewayHarness.temporaryDirectory() + "/audit.jsonl"
        try write(2_000, to: path)
        try write(1, to: path, from: 2_000)
        let all = try lines(path)
        #expect(all.count == 2_001)
        #expect(all.last?["seq"]?.intValue == 2_001)
        #expect(AuditChain.verify(try Data(contentsOf: URL(fileURLWithPath: path))) == nil)
    }

    @Test func aTornLastLineFromACrashIsCutOffAndTheChainStillVerifies() throws {
        let path = try GatewayHarness.temporaryDirectory() + "/audit.jsonl"
        try write(3, to: path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Array(#"{"n":3,"seq":4,"prev":"ab"#.utf8))
        try handle.close()
        try write(2, to: path, from: 3)
        let all = try lines(path)
        #expect(all.map { $0["seq"]?.intValue } == [1, 2, 3, 4, 5])
        #expect(AuditChain.verify(try Data(contentsOf: URL(fileURLWithPath: path))) == nil)
    }

    @Test func aDamagedTrailIsMovedAsideAndANewChainStarts() throws {
        let directory = try GatewayHarness.temporaryDirectory()
        let path = directory + "/audit.jsonl"
        try write(2, to: path)
        try Data("not a record\n".utf8).append(to: path)
        try write(1, to: path, from: 2)
        let kept = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("audit.jsonl.corrupt-") }
        #expect(kept.count == 1, "the damaged trail is kept as evidence")
        #expect(try lines(path).map { $0["seq"]?.intValue } == [1])
        #expect(AuditChain.verify(try Data(contentsOf: URL(fileURLWithPath: path))) == nil)
    }

    /// `/dev/full` fails every write with ENOSPC, as a full disk does.
    @Test func aDiskThatRefusesWritesCountsTheLossInsteadOfCrashing() throws {
        let lost = Mutex<[String: Int]>([:])
        let trail = try AuditTrail(path: "/dev/full", fsync: .always, logger: Self.logger) { reason, records in
            lost.withLock { $0[reason, default: 0] += records }
        }
        for index in 0..<5 { trail.record([("n", .number(String(index)))]) }
        trail.close()
        #expect(lost.withLock { $0["write_failed"] } == 5)
    }

    /// More waiting than the writer seals while the disk refuses (8 MB) must not hold up shutdown.
    @Test func shutdownOnAFullDiskDoesNotWaitForever() async throws {
        let lost = Mutex<[String: Int]>([:])
        let trail = try AuditTrail(path: "/dev/full", fsync: .batch, logger: Self.logger, capacity: 200_000) { reason, records in
            lost.withLock { $0[reason, default: 0] += records }
        }
        let padding = String(repeating: "x", count: 200)
        for index in 0..<40_000 { trail.record([("n", .number(String(index))), ("pad", .string(padding))]) }
        // Let the writer seal those (over 8 MB waiting), so the next ones stay queued.
        try await Task.sleep(for: .milliseconds(2500))
        for index in 40_000..<60_000 { trail.record([("n", .number(String(index))), ("pad", .string(padding))]) }
        let started = ContinuousClock.now
        await Task.detached { trail.close() }.value
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(lost.withLock { $0.values.reduce(0, +) } == 60_000)
    }
}

extension Data {
    fileprivate func append(to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: self)
        try handle.close()
    }
}

/// Through the gateway: an audit trail on a disk that refuses every write (`/dev/full`) does not stop
/// requests, streamed or not.
@Suite(.serialized) struct AuditOnAFailingDiskTests {
    init() { ProviderKeyEnvironment.install() }

    @Test func requestsAreServedWhileTheAuditDiskRefusesWrites() async throws {
        try await GatewayHarness.withMocks([MockFaults()]) { mocks in
            let policy = GatewayHarness.policy(mocks: mocks, extra: "audit: {path: /dev/full, fsync: always}\n")
            try await GatewayHarness.withGateway(policy: policy) { gw in
                for stream in [false, true, false] {
                    let reply = try await gw.chat("m0", content: "hello", stream: stream)
                    #expect(reply.status == 200, "stream \(stream)")
                }
                let health = try await gw.request("GET", "/healthz", key: nil)
                #expect(health.status == 200)
            }
        }
    }
}

extension GatewayHarness {
    static func directory(of path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
}
