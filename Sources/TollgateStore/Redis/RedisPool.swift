import Logging
import Synchronization

/// A few `RedisWorker`s; requests are spread round-robin so a slow reply on one connection does not
/// hold up everything.
final class RedisPool: Sendable {
    private let workers: [RedisWorker]
    private let next = Atomic<Int>(0)

    init(url: RedisURL, size: Int, options: RedisConnectionOptions, greeting: [RedisCommand] = [], logger: Logger) {
        workers = (0..<max(1, size)).map {
            RedisWorker(url: url, options: options, name: "tollgate-redis-\($0)", greeting: greeting, logger: logger)
        }
    }

    /// One command, its reply checked for a Redis error.
    func execute(_ command: RedisCommand) async throws -> RedisValue {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = Int(UInt(bitPattern: index) % UInt(workers.count))
        return try await workers[slot].execute(command).checked()
    }

    /// Writes the command now and hands its checked reply to `completion` (on a worker thread).
    func send(_ command: RedisCommand, completion: @escaping @Sendable (Result<RedisValue, StoreError>) -> Void) {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = Int(UInt(bitPattern: index) % UInt(workers.count))
        workers[slot].send(command) { result in
            completion(result.flatMap { reply in
                do { return .success(try reply.checked()) } catch let error as StoreError { return .failure(error) } catch {
                    return .failure(.unavailable(String(describing: error)))
                }
            })
        }
    }

    /// False while any connection is known to be down (a failed connect or a dropped connection).
    var isReachable: Bool { !workers.contains { !$0.isReachable } }

    func stop() {
        for worker in workers { worker.stop() }
    }
}
