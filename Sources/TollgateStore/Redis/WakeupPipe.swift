#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe that lets other threads interrupt a worker blocked in `poll(2)` on its socket
/// (new bytes to flush, a failed write, shutdown). Level-triggered: a signal sent before the worker
/// starts waiting still wakes it.
///
/// The descriptors are closed only in `deinit`, when no thread can hold the pipe any more: a
/// `close()` callable while other threads may still `signal()` would let a late signal write into
/// whatever socket the kernel handed that descriptor number to next (seen as stray bytes in other
/// connections' responses).
final class WakeupPipe: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)  // a full pipe already holds a wake-up; nothing is lost
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }

    /// Waits until `fd` has one of `events`, the pipe is signalled, or the timeout (ms, -1 = none)
    /// passes. Without a pipe (creation failed) it polls in 10 ms steps rather than hanging.
    @discardableResult
    func wait(fd: Int32?, events: Int16, timeoutMilliseconds: Int32) -> (woken: Bool, events: Int16) {
        var fds = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        if let fd { fds.append(pollfd(fd: fd, events: events, revents: 0)) }
        let timeout = readEnd < 0 && (timeoutMilliseconds < 0 || timeoutMilliseconds > 10) ? 10 : timeoutMilliseconds
        while true {
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return (false, 0) }
            return (fds[0].revents != 0, fds.count > 1 ? fds[1].revents : 0)
        }
    }

    deinit {
        if readEnd >= 0 { _ = Glibc.close(readEnd) }
        if writeEnd >= 0 { _ = Glibc.close(writeEnd) }
    }
}
