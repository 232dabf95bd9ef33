import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Which Redis the integration tests use, and whether they may skip.
///
/// CI (scripts/test.sh) starts one `redis-server` and exports `TOLLGATE_TEST_REDIS_URL`; tests then get a
/// freshly flushed database of it each (1...15, never 0). Locally, without that variable, every test starts
/// its own private `redis-server` on a free port in a temp dir and stops it by PID. With
/// `TOLLGATE_REQUIRE_REDIS` set (CI) a missing Redis fails the tests instead of skipping them.
enum TestRedis {
    static var sharedURL: String? {
        ProcessInfo.processInfo.environment["TOLLGATE_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var required: Bool {
        ProcessInfo.processInfo.environment["TOLLGATE_REQUIRE_REDIS"].map { !$0.isEmpty } ?? false
    }

    /// Run the Redis tests when some Redis can be had, and also when required (so a missing one fails).
    static var enabled: Bool { sharedURL != nil || RedisServerProcess.executable != nil || required }

    private static let nextDatabase = Atomic<Int>(0)

    /// Runs `body` with the URL of an empty Redis database nobody else is using.
    static func withDatabase<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        if let shared = sharedURL {
            let (host, port) = try hostAndPort(shared)
            let db = nextDatabase.wrappingAdd(1, ordering: .relaxed).oldValue % 15 + 1
            _ = try RESPClient.command(host: host, port: port, ["SELECT", String(db)], ["FLUSHDB"])
            return try await body("redis://\(host):\(port)/\(db)")
        }
        let server = try RedisServerProcess()
        defer { server.stop() }
        return try await body(server.url)
    }

    /// Runs `body` with a private server it may kill and restart (always its own process).
    static func withPrivateServer<T: Sendable>(_ body: @Sendable (RedisServerProcess) async throws -> T) async throws -> T {
        let server = try RedisServerProcess()
        defer { server.stop() }
        return try await body(server)
    }

    static func hostAndPort(_ url: String) throws -> (String, Int) {
        guard let parsed = URLComponents(string: url), let host = parsed.host, let port = parsed.port else {
            throw RedisTestError("cannot parse TOLLGATE_TEST_REDIS_URL `\(url)` (expected redis://host:port)")
        }
        return (host, port)
    }
}

/// A private `redis-server`: free port, temp dir, no persistence; killed and restarted by PID.
final class RedisServerProcess: Sendable {
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin"
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let port: Int
    let directory: String
    private let pid = Mutex<pid_t>(0)

    var url: String { "redis://127.0.0.1:\(port)" }
    /// The same server over its Unix socket.
    var socketURL: String { "unix://\(directory)/redis.sock" }

    init() throws {
        guard Self.executable != nil else {
            throw RedisTestError("redis-server is not installed and TOLLGATE_TEST_REDIS_URL is not set")
        }
        port = try FreePort.pick()
        directory = NSTemporaryDirectory() + "tollgate-itest-redis-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit { stop() }

    /// Starts (or restarts, on the same port) the server and waits until it answers PING.
    func start() throws {
        guard let executable = Self.executable else { throw RedisTestError("redis-server missing") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", directory, "--logfile", directory + "/redis.log", "--unixsocket", directory + "/redis.sock",
            "--unixsocketperm", "700",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        pid.withLock { $0 = process.processIdentifier }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? RESPClient.command(host: "127.0.0.1", port: port, ["PING"])) == "PONG" { return }
            usleep(20_000)
        }
        throw RedisTestError("redis-server on port \(port) did not answer PING")
    }

    /// Kills the server hard (SIGKILL) and reaps it.
    func kill() {
        signalAndReap(SIGKILL)
    }

    /// SIGKILL too: the test process's children can inherit an ignored SIGTERM (signal handling set up by
    /// the server's lifecycle library), and nothing here needs a graceful Redis shutdown.
    func stop() {
        signalAndReap(SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func signalAndReap(_ signal: Int32) {
        let target = pid.withLock { value -> pid_t in
            defer { value = 0 }
            return value
        }
        guard target > 0 else { return }
        _ = Glibc.kill(target, signal)
        var status: Int32 = 0
        _ = waitpid(target, &status, 0)
    }
}

/// Picks a free TCP port on 127.0.0.1 (bind to 0, read it back, close).
enum FreePort {
    static func pick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisTestError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RedisTestError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Just enough RESP to set tests up (PING, SELECT, FLUSHDB, KEYS, GET): one blocking connection per call.
enum RESPClient {
    /// Sends the commands in order on one connection and returns the last reply as text
    /// (simple string, integer, bulk; arrays joined by newlines).
    static func command(host: String, port: Int, _ commands: [String]...) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisTestError("socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RedisTestError("cannot connect to Redis at \(host):\(port)") }
        var reader = Reader(fd: fd)
        var last = ""
        for arguments in commands {
            var out = "*\(arguments.count)\r\n"
            for argument in arguments { out += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
            let bytes = Array(out.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw RedisTestError("send failed") }
                sent += n
            }
            last = try reader.reply()
        }
        return last
    }

    private struct Reader {
        let fd: Int32
        var buffer: [UInt8] = []

        mutating func line() throws -> String {
            while true {
                if let index = buffer.firstIndex(of: 0x0A), index > 0, buffer[index - 1] == 0x0D {
                    let text = String(decoding: buffer[..<(index - 1)], as: UTF8.self)
                    buffer.removeFirst(index + 1)
                    return text
                }
                try fill()
            }
        }

        mutating func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw RedisTestError("Redis closed the connection or timed out") }
            buffer.append(contentsOf: chunk[..<n])
        }

        mutating func reply() throws -> String {
            let head = try line()
            guard let kind = head.first else { throw RedisTestError("empty reply") }
            let rest = String(head.dropFirst())
            switch kind {
            case "+", ":": return rest
            case "-": throw RedisTestError("Redis error: \(rest)")
            case "$":
                guard let length = Int(rest) else { throw RedisTestError("bad bulk length") }
                if length < 0 { return "" }
                while buffer.count < length + 2 { try fill() }
                let text = String(decoding: buffer[..<length], as: UTF8.self)
                buffer.removeFirst(length + 2)
                return text
            case "*":
                guard let count = Int(rest) else { throw RedisTestError("bad array length") }
                var items: [String] = []
                for _ in 0..<max(0, count) { items.append(try reply()) }
                return items.joined(separator: "\n")
            default: throw RedisTestError("unexpected reply `\(head.prefix(40))`")
            }
        }
    }
}

struct RedisTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
