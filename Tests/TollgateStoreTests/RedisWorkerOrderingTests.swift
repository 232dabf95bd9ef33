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

    @Test func concurrentCallersOnOneConnectionEachGetTheirOwnReply() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let worker = try makeWorker(server)
        defer { worker.stop() }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for index in 0..<500 {
                group.addTask {
                    let reply = try? await worker.execute(RedisCommand(["ECHO", "caller-\(index)"]))
                    return reply?.text == "caller-\(index)" ? 0 : 1
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    /// Commands larger than the socket takes at once go partly through the outbox the thread flushes,
    /// while other callers keep writing: the bytes on the wire must stay in queue order.
    @Test func commandsTheSocketCannotTakeAtOnceStayInOrder() async throws {
        let server = try RedisServerFixture()
        defer { server.stop() }
        let worker = try makeWorker(server)
        defer { worker.stop() }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask {
                    // 12 × 64 KB: a command already exceeds what a fresh loopback socket takes at once
                    // (16 KB send buffer), yet the test stays light for the suites running beside it.
                    let payload = "\(index):" + String(repeating: Character(Unicode.Scalar(UInt8(97 + index % 26))), count: 64 * 1024)
                    let reply = try? await worker.execute(RedisCommand(["ECHO", payload]))
                    return reply?.text == payload ? 0 : 1
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
