import Foundation

/// The built `tollgate` executable, run as a real process by the CLI tests.
///
/// Everything that blocks (starting, reading the pipes, waiting for the exit) happens on a thread of
/// its own: on a 2-core machine the Swift cooperative pool has two threads, and a test that held one
/// while a slow start-up ran stalled every other test in the process (timeouts measured seconds late).
enum TollgateExecutable {
    struct Run: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// `TOLLGATE_BIN`, or the executable built next to the test bundle (`swift build --build-tests`).
    static var path: String? {
        if let path = ProcessInfo.processInfo.environment["TOLLGATE_BIN"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let candidates = [CommandLine.arguments.first, Bundle.main.executablePath].compactMap { $0 }.map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("tollgate").path
        } + [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("tollgate").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct NotBuilt: Error, CustomStringConvertible {
        var description: String { "tollgate executable not found next to the tests; build with --build-tests or set TOLLGATE_BIN" }
    }

    /// Runs `tollgate ARGUMENTS` with the test environment minus the CLI's own variables plus `environment`.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        guard let binary = path else { throw NotBuilt() }
        var env = ProcessInfo.processInfo.environment
        env["TOLLGATE_ADMIN_TOKEN"] = nil
        env["TOLLGATE_URL"] = nil
        for (name, value) in environment { env[name] = value }
        let finalEnvironment = env
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = arguments
                process.environment = finalEnvironment
                let out = Pipe()
                let err = Pipe()
                process.standardOutput = out
                process.standardError = err
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // stderr is drained on a second thread so that neither pipe can fill up and stall the child.
                let stderrData = LockedData()
                let drain = Thread { stderrData.set(err.fileHandleForReading.readDataToEndOfFile()) }
                drain.start()
                let stdout = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let stderr = stderrData.waitForValue()
                continuation.resume(returning: Run(
                    status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self)))
            }
            thread.start()
        }
    }
}

/// One `Data` handed from the stderr-draining thread to the waiting one.
private final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    func set(_ data: Data) {
        condition.lock()
        value = data
        condition.signal()
        condition.unlock()
    }

    func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value ?? Data()
    }
}
