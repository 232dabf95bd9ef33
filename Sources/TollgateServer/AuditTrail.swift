import Foundation
import Logging
import Synchronization
import TollgateCore
import TollgateStore

/// An append-only, hash-chained JSON-lines audit trail.
///
/// Each line carries `seq`, `prev` (the previous line's hash) and `hash` = SHA-256 of `prev`
/// followed by the line's other fields, so editing, removing or reordering any line breaks the
/// chain from there on (`tollgate audit verify`). Records are queued by request tasks and written
/// by one dedicated thread, so file I/O and fsync never run on an event loop. The queue is
/// bounded; a record that does not fit is counted (`onLoss`) and logged (at most once a second),
/// never silently lost.
///
/// A failed write (disk full, I/O error) never takes the gateway down: the file is cut back to the
/// last whole line, the sealed lines wait and are written again every second, and while they wait
/// new records stay queued (and beyond the queue's bound are counted as dropped), so the chain on
/// disk never has a hole or a torn line. A torn last line left by a crash is cut off at start-up.
public final class AuditTrail: Sendable {
    private struct State {
        var queue: [JSONValue] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let path: String
    private let fsync: AuditSettings.Fsync
    private let capacity: Int
    private let logger: Logger
    private let dropped = Atomic<Int>(0)
    private let onLoss: @Sendable (_ reason: String, _ records: Int) -> Void
    private let logThrottle = LogThrottle()

    /// Opens (or continues) the trail at `path`, creating its folder. `onLoss` counts records that
    /// could not be written (`queue_full`, `write_failed` at shutdown).
    public init(
        path: String, fsync: AuditSettings.Fsync, logger: Logger, capacity: Int = 50_000,
        onLoss: @escaping @Sendable (_ reason: String, _ records: Int) -> Void = { _, _ in }
    ) throws {
        self.path = path
        self.fsync = fsync
        self.capacity = capacity
        self.logger = logger
        self.onLoss = onLoss
        try FileManager.default.createDirectory(atPath: PolicyPath.directory(of: path), withIntermediateDirectories: true)
        var handle = try Self.open(path)
        let tail: AuditFileTail
        do {
            tail = try AuditFileTail.read(handle)
        } catch let error as AuditTrailError {
            // Keep the damaged trail as evidence and start a new chain beside it, rather than refuse
            // to serve or append to a chain that no longer verifies.
            try? handle.close()
            let aside = path + ".corrupt-" + String(Int(Date().timeIntervalSince1970))
            try FileManager.default.moveItem(atPath: path, toPath: aside)
            logger.critical(
                "audit trail is damaged; moved it aside and started a new chain",
                metadata: ["audit.path": .string(path), "audit.moved_to": .string(aside), "error": .string(error.description)])
            handle = try Self.open(path)
            tail = AuditFileTail(seq: 0, hash: AuditChain.genesis, tornBytes: 0, end: 0)
        }
        if tail.tornBytes > 0 {
            logger.warning(
                "audit trail ended in a torn line (a crash mid-write); cut it off and continuing the chain",
                metadata: ["audit.path": .string(path), "audit.torn_bytes": .stringConvertible(tail.tornBytes)])
        }
        let thread = Thread { [handle, self] in self.run(handle, seq: tail.seq, prev: tail.hash, end: tail.end) }
        thread.name = "tollgate-audit"
        thread.start()
    }

    private static func open(_ path: String) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw AuditTrailError("cannot open the audit trail at \(path) for writing")
        }
        return handle
    }

    /// Records dropped because the queue was full.
    public var droppedCount: Int { dropped.load(ordering: .relaxed) }

    /// Queues one record (an object of already-redacted fields).
    public func record(_ fields: [(String, JSONValue)]) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped, state.queue.count < capacity else { return false }
            state.queue.append(.object(fields))
            return true
        }
        if accepted {
            wake.signal()
        } else {
            dropped.add(1, ordering: .relaxed)
            onLoss("queue_full", 1)
            if let suppressed = logThrottle.admit("queue_full") {
                logger.error(
                    "audit queue full or closed; record not written",
                    metadata: ["audit.path": .string(path), "log.suppressed_since_last": .stringConvertible(suppressed)])
            }
        }
    }

    /// Writes what is queued and stops the writer thread.
    public func close() {
        let wasStopped = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return s.stopped
        }
        guard !wasStopped else { return }
        wake.signal()
        done.wait()
    }

    /// Sealed lines not on disk yet; past this many bytes new records wait in the queue.
    private static let unwrittenLimit = 8 << 20

    private func run(_ handle: FileHandle, seq start: Int, prev startPrev: String, end: UInt64) {
        var seq = start
        var prev = startPrev
        var end = end
        var unwritten: [[UInt8]] = []
        var unwrittenBytes = 0
        while true {
            if unwritten.isEmpty { wake.wait() } else { _ = wake.wait(timeout: .now() + .seconds(1)) }
            let (batch, stopped) = state.withLock { s -> ([JSONValue], Bool) in
                // Stopping takes everything for one last attempt, so a disk that stays full cannot hold up shutdown.
                guard unwrittenBytes < Self.unwrittenLimit || s.stopped else { return ([], s.stopped) }
                defer { s.queue.removeAll(keepingCapacity: true) }
                return (s.queue, s.stopped)
            }
            for record in batch {
                seq += 1
                let line = AuditChain.seal(record, seq: seq, prev: prev)
                prev = line.hash
                unwritten.append(line.bytes)
                unwrittenBytes += line.bytes.count
            }
            let written = write(unwritten, to: handle, end: &end)
            unwrittenBytes -= unwritten.prefix(written).reduce(0) { $0 + $1.count }
            unwritten.removeFirst(written)
            if stopped && state.withLock({ $0.queue.isEmpty }) {
                if !unwritten.isEmpty {
                    onLoss("write_failed", unwritten.count)
                    logger.critical(
                        "audit trail could not be written before shutdown; records lost",
                        metadata: ["audit.path": .string(path), "audit.records": .stringConvertible(unwritten.count)])
                }
                break
            }
        }
        try? handle.synchronize()
        try? handle.close()
        done.signal()
    }

    /// Appends whole lines in order (fsync per line for `always`, per call for `batch`) at `end`, the
    /// end of the last whole line; returns how many are on disk. On a failure the file is cut back to
    /// `end` and the rest wait.
    private func write(_ lines: [[UInt8]], to handle: FileHandle, end: inout UInt64) -> Int {
        guard !lines.isEmpty else { return 0 }
        var done = 0
        do {
            if fsync == .always {
                for line in lines {
                    try handle.write(contentsOf: line)
                    try handle.synchronize()
                    end += UInt64(line.count)
                    done += 1
                }
            } else {
                let bytes = lines.flatMap { $0 }
                try handle.write(contentsOf: bytes)
                if fsync == .batch { try handle.synchronize() }
                end += UInt64(bytes.count)
                done = lines.count
            }
        } catch {
            try? handle.truncate(atOffset: end)
            try? handle.seek(toOffset: end)
            if let suppressed = logThrottle.admit("write_failed") {
                logger.error(
                    "audit trail write failed; retrying every second, requests go on",
                    metadata: [
                        "audit.path": .string(path), "error": .string(String(describing: error)),
                        "audit.waiting_records": .stringConvertible(lines.count - done),
                        "log.suppressed_since_last": .stringConvertible(suppressed),
                    ])
            }
        }
        return done
    }
}

struct AuditTrailError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The hash chain itself, shared by the writer and `tollgate audit verify`.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    /// Adds `seq`, `prev` and `hash` to `record` and returns the line to append.
    static func seal(_ record: JSONValue, seq: Int, prev: String) -> (bytes: [UInt8], hash: String) {
        let body = record.setting("seq", to: .number(String(seq))).setting("prev", to: .string(prev))
        let hash = digest(body, prev: prev)
        var bytes = JSONWriter.bytes(body.setting("hash", to: .string(hash)))
        bytes.append(0x0A)
        return (bytes, hash)
    }

    static func digest(_ bodyWithoutHash: JSONValue, prev: String) -> String {
        KeyCrypto.sha256Hex(Array(prev.utf8) + JSONWriter.bytes(bodyWithoutHash))
    }

    /// Checks every line; returns nil when the chain holds, else the 1-based line number and why.
    public static func verify(_ data: Data) -> (line: Int, reason: String)? {
        var prev = genesis
        var expectedSeq = 1
        for (index, raw) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !raw.isEmpty {
            let line = index + 1
            guard let json = try? JSONParser.parse(Array(raw)), case .object = json else { return (line, "not a JSON object") }
            guard let hash = json["hash"]?.stringValue, let seq = json["seq"]?.intValue, let linePrev = json["prev"]?.stringValue else {
                return (line, "missing seq, prev or hash")
            }
            guard seq == expectedSeq else { return (line, "sequence \(seq) where \(expectedSeq) was expected (a record is missing or reordered)") }
            guard linePrev == prev else { return (line, "prev does not match the previous record's hash") }
            guard digest(json.removing("hash"), prev: linePrev) == hash else { return (line, "hash does not match the record's content") }
            prev = hash
            expectedSeq = seq + 1
        }
        return nil
    }
}
