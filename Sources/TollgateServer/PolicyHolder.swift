import Foundation
import Synchronization
import TollgateCore

/// Holds the current policy; readers take one immutable value, a reload replaces it whole.
final class PolicyHolder: Sendable {
    struct ReloadStatus: Sendable {
        var lastError: String?
        var lastErrorAt: Date?
        var failures: Int
        /// Hash of the files that last failed, so an unchanged broken edit is not retried (and
        /// logged) every second.
        var failedHash: String?
    }

    private let current: Mutex<RuntimePolicy>
    private let status = Mutex(ReloadStatus(lastError: nil, lastErrorAt: nil, failures: 0, failedHash: nil))
    let path: String

    init(initial: RuntimePolicy, path: String) {
        self.current = Mutex(initial)
        self.path = path
    }

    var policy: RuntimePolicy { current.withLock { $0 } }

    var reloadStatus: ReloadStatus { status.withLock { $0 } }

    func replace(with next: RuntimePolicy) {
        current.withLock { $0 = next }
        status.withLock {
            $0.lastError = nil
            $0.failedHash = nil
        }
    }

    func recordFailure(_ message: String, hash: String? = nil) {
        status.withLock {
            $0.failedHash = hash
            $0.lastError = message
            $0.lastErrorAt = Date()
            $0.failures += 1
        }
    }
}
