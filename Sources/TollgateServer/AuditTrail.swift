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
/// bounded; a record that does not fit is counted and logged, never silently lost.
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

    /// Opens (or continues) the trail at `path`, creating its folder.
    public init(path: String, fsync: AuditSettings.Fsync, logger: Logger, capacity: Int = 50_000) throws {
        self.path = path
        self.fsync = fsync
        self.capacity = capacity
        self.logger = logger
        try FileManager.default.createDirectory(atPath: PolicyPath.directory(of: path), withIntermediateDirectories: true)
        let tail = AuditChain.tail(ofFile: path)
        let thread = Thread { [self] in self.run(seq: tail.seq, prev: tail.hash) }
        thread.name = "tollgate-audit"
        thread.start()
    }

    /// Records dropped because the queue was full (exported as a metric).
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
            logger.error("audit queue full or closed; record not written", metadata: ["audit.path": .string(path)])
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

    private func run(seq start: Int, prev start_prev: String) {
        var seq = start
        var prev = start_prev
        let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }()
        guard let handle else {
            logger.critical("cannot open audit trail", metadata: ["audit.path": .string(path)])
            done.signal()
            return
        }
        handle.seekToEndOfFile()
        while true {
            wake.wait()
            let (batch, stopped) = state.withLock { s -> ([JSONValue], Bool) in
                defer { s.queue.removeAll(keepingCapacity: true) }
                return (s.queue, s.stopped)
            }
            var out: [UInt8] = []
            for record in batch {
                seq += 1
                let line = AuditChain.seal(record, seq: seq, prev: prev)
                prev = line.hash
                out.append(contentsOf: line.bytes)
                if fsync == .always {
                    handle.write(Data(out))
                    try? handle.synchronize()
                    out.removeAll(keepingCapacity: true)
                }
            }
            if !out.isEmpty {
                handle.write(Data(out))
                if fsync == .batch { try? handle.synchronize() }
            }
            if stopped && state.withLock({ $0.queue.isEmpty }) { break }
        }
        try? handle.synchronize()
        try? handle.close()
        done.signal()
    }
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

    /// The last sequence number and hash of an existing trail, so a restart continues the chain.
    static func tail(ofFile path: String) -> (seq: Int, hash: String) {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return (0, genesis) }
        let lines = data.split(separator: 0x0A)
        guard let last = lines.last, let json = try? JSONParser.parse(Array(last)),
            let seq = json["seq"]?.intValue, let hash = json["hash"]?.stringValue
        else { return (0, genesis) }
        return (seq, hash)
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
