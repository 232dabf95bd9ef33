#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Crash-safe whole-file replacement: write a temp file, fsync it, rename it over the target, fsync
/// the directory. After a crash the target holds either the old or the new content, never a mix.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.unavailable("cannot create \(temp): \(errnoText())") }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let written = Glibc.write(fd, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                offset += written
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        let failure = ok ? nil : errnoText()
        close(fd)
        if let failure {
            unlink(temp)
            throw StoreError.unavailable("cannot write \(temp): \(failure)")
        }
        guard rename(temp, path) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw StoreError.unavailable("cannot rename into \(path): \(reason)")
        }
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            defer { close(dirFD) }
            guard fsync(dirFD) == 0 else { throw StoreError.unavailable("cannot fsync \(directory): \(errnoText())") }
        }
    }

    /// The file's bytes, or nil when it does not exist.
    static func read(_ path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StoreError.corrupt("cannot read \(path): \(error)")
        }
    }

    static func ensureDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError.unavailable("cannot create data directory \(path): \(error)")
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
