import CHiredis
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A private `redis-server` for one test: ephemeral port, temp dir, no persistence, stopped by PID.
///
/// When `redis-server` is missing the Redis tests are skipped locally with a message, but fail under
/// CI (env `CI` set), where a missing server means the environment is broken.
final class RedisServerFixture: @unchecked Sendable {
    static let executable: String? = {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin")
            .split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

    /// Run Redis tests when the server exists, and also in CI so a missing server fails loudly.
    static var shouldRun: Bool { executable != nil || isCI }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "redis-server is not installed but CI is set: Redis tests must run in CI" }
    }

    let port: Int
    let directory: String
    let extraArguments: [String]
    let password: String?
    private var process: Process?

    /// `password` starts the server with `--requirepass`; the fixture's own commands authenticate.
    init(password: String? = nil) throws {
        self.password = password
        self.extraArguments = password.map { ["--requirepass", $0] } ?? []
        guard Self.executable != nil else { throw Missing() }
        port = try Self.freePort()
        directory = NSTemporaryDirectory() + "tollgate-redis-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit { stop() }

    var url: String { "redis://127.0.0.1:\(port)" }

    /// The same server over its Unix socket.
    var socketPath: String { directory + "/redis.sock" }

    func start() throws {
        guard let executable = Self.executable else { throw Missing() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", directory, "--logfile", directory + "/redis.log", "--unixsocket", socketPath, "--unixsocketperm", "700",
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? command(["PING"])) == "PONG" { return }
            usleep(20_000)
        }
        throw StoreFixtureError("redis-server on port \(port) did not answer PING")
    }

    /// Kills the server hard (SIGKILL by PID) and waits for it to exit.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        Self.awaitExit(process)
        self.process = nil
    }

    /// Polls instead of `waitUntilExit()`, which spins a run loop and can block a cooperative thread.
    /// Reaps the child by PID (ECHILD means Foundation already did); SIGKILL after 5 s.
    private static func awaitExit(_ process: Process) {
        let pid = process.processIdentifier
        var status: Int32 = 0
        for attempt in 0..<600 {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) { return }
            if attempt == 500 { Glibc.kill(pid, SIGKILL) }
            usleep(10_000)
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is answered.
    func pause() {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGSTOP) }
    }

    func resume() {
        if let process, process.isRunning { Glibc.kill(process.processIdentifier, SIGCONT) }
    }

    func stop() {
        guard let process, process.isRunning else { return }
        // Nothing to persist (--save ''), so SIGKILL: immediate and works on a paused server too.
        Glibc.kill(process.processIdentifier, SIGKILL)
        Self.awaitExit(process)
        self.process = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs one command on a fresh connection and returns the reply as text (for test set-up only).
    func command(_ arguments: [String], database: Int = 0) throws -> String {
        guard let context = redisConnect("127.0.0.1", Int32(port)) else { throw StoreFixtureError("no context") }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else { throw StoreFixtureError("connect failed") }
        if let password { _ = try send(["AUTH", password], on: context) }
        if database != 0 { _ = try send(["SELECT", String(database)], on: context) }
        return try send(arguments, on: context)
    }

    private func send(_ arguments: [String], on context: UnsafeMutablePointer<redisContext>) throws -> String {
        var cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var lengths = arguments.map { $0.utf8.count }
        let raw = cStrings.withUnsafeMutableBufferPointer { argv in
            argv.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: argv.count) { pointer in
                redisCommandArgv(context, Int32(arguments.count), pointer, &lengths)
            }
        }
        guard let raw else { throw StoreFixtureError("command failed") }
        defer { freeReplyObject(raw) }
        let reply = raw.assumingMemoryBound(to: redisReply.self).pointee
        if reply.type == REDIS_REPLY_INTEGER { return String(reply.integer) }
        guard let str = reply.str else { return "" }
        return String(cString: str)
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StoreFixtureError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw StoreFixtureError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct StoreFixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
