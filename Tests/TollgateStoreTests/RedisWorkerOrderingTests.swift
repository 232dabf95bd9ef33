import Foundation
import Logging
import Testing
@testable import TollgateStore

/// Callers write their own commands to one pipelined connection while its thread delivers replies;
/// every reply must still reach the caller whose command it answers.
@Suite(.serialized, .enabled(if: RedisServerFixture.shouldRun, "redis-server is not installed; Redis tests skipped (they fail when CI is set)"))
struct RedisWorkerOrderingTests {
    private func makeWorker(_ server: RedisServerFixture) throws -> RedisWorker {
        RedisWorker(
            url: try RedisURL(parsing: server.url), options: RedisConnectionOptions(commandTimeout: .seconds(10)),
            name: "tollgate-redis-test", logger: Logger(label: "test"))
    }

    /// Sends every payload with ECHO at once; counts the callers that got someone else's reply (or none).
    private static func mismatchedEchoes(_ worker: RedisWorker, _ payloads: [String]) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for payload in payloads {
                group.addTask {
                    let reply = try? await worker.execute(RedisCommand(["ECHO", payload]))
                    return reply?.text == payload ? 0 : 1
                }
            }
            return await group.reduce(0, +)
        }
    }

    @Test func concurrentCallersOnOneConnectionEachGetTheirOwnReply() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let worker = try makeWorker(server)
        defer { worker.stop() }
        #expect(await Self.mismatchedEchoes(worker, (0..<500).map { "caller-\($0)" }) == 0)
    }

    /// Commands larger than the socket takes at once go partly through the outbox the thread flushes,
    /// while other callers keep writing: the bytes on the wire must stay in queue order.
    @Test func commandsTheSocketCannotTakeAtOnceStayInOrder() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let worker = try makeWorker(server)
        defer { worker.stop() }
        // 12 × 64 KB: a command already exceeds what a fresh loopback socket takes at once
        // (16 KB send buffer), yet the test stays light for the suites running beside it.
        let payloads = (0..<12).map { "\($0):" + String(repeating: Character(Unicode.Scalar(UInt8(97 + $0 % 26))), count: 64 * 1024) }
        #expect(await Self.mismatchedEchoes(worker, payloads) == 0)
    }
}
