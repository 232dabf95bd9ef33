import Foundation
import TollgateCore

/// Where an existing audit trail ends: the last record's `seq` and `hash`, read from the end of the
/// file only (a trail grows by every request; start-up must not read gigabytes).
///
/// A last line without its newline is what a crash mid-write leaves; it was never acknowledged, so it
/// is cut off and the chain continues from the line before it. A last whole line that is not a record
/// is damage: `read` throws and the trail moves the file aside (continuing would hide it).
struct AuditFileTail {
    let seq: Int
    let hash: String
    /// Bytes cut off the end (a torn line).
    let tornBytes: Int
    /// The file's length after the cut: where the next line goes.
    let end: UInt64

    /// Reads the tail and leaves `handle` positioned at the end, ready to append.
    static func read(_ handle: FileHandle) throws -> AuditFileTail {
        let size = try handle.seekToEnd()
        guard size > 0 else { return AuditFileTail(seq: 0, hash: AuditChain.genesis, tornBytes: 0, end: 0) }
        var window: UInt64 = 64 * 1024
        while true {
            let start = size > window ? size - window : 0
            try handle.seek(toOffset: start)
            let bytes = Array(try handle.readToEnd() ?? Data())
            var end = bytes.count
            var torn = 0
            if bytes.last != 0x0A {
                // Cut the torn line: back to the newline before it (or to the start of the window).
                guard let newline = bytes.lastIndex(of: 0x0A) else {
                    if start > 0 { window *= 4; continue }
                    try handle.truncate(atOffset: 0)
                    return AuditFileTail(seq: 0, hash: AuditChain.genesis, tornBytes: bytes.count, end: 0)
                }
                end = newline + 1
                torn = bytes.count - end
                try handle.truncate(atOffset: start + UInt64(end))
            }
            // The last whole line is between the previous newline and `end - 1`.
            let body = bytes[..<(end - 1)]
            let lineStart = body.lastIndex(of: 0x0A).map { $0 + 1 }
            if lineStart == nil && start > 0 {
                window *= 4
                continue
            }
            let line = Array(body[(lineStart ?? 0)...])
            guard let json = try? JSONParser.parse(line), let seq = json["seq"]?.intValue, let hash = json["hash"]?.stringValue else {
                throw AuditTrailError("the last line of the audit trail is not an audit record; run `tollgate audit verify` on it")
            }
            let fileEnd = try handle.seekToEnd()
            return AuditFileTail(seq: seq, hash: hash, tornBytes: torn, end: fileEnd)
        }
    }
}
