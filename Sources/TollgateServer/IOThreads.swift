import NIOCore
import NIOPosix
import Synchronization

/// The NIO event loop groups that serve client connections, one per thread count, shared by
/// every server in the process and kept for its lifetime (as NIO's own singleton is).
///
/// The count is a tuning choice, not NIO's default of one loop per core: on the 2-core reference
/// machine one event loop measured faster than two (about 90 vs 100 µs of CPU per proxied request
/// at 64 connections, 0.62 vs 0.72 ms p50 at 4), because the loops share the cores with the Swift
/// cooperative pool, where handlers run, and the libcurl thread.
enum IOThreads {
    private static let groups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    /// Half the cores, at least one: the other half runs handlers and upstream transfers.
    static var defaultCount: Int { max(1, System.coreCount / 2) }

    static func group(threads: Int) -> MultiThreadedEventLoopGroup {
        let count = min(max(threads, 1), 64)
        return groups.withLock { groups in
            if let existing = groups[count] { return existing }
            let made = MultiThreadedEventLoopGroup(numberOfThreads: count)
            groups[count] = made
            return made
        }
    }
}
