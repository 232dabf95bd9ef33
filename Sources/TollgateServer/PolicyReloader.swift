import Logging
import ServiceLifecycle
import TollgateCore
import UnixSignals

/// Watches the policy files and swaps in a new snapshot when they change.
///
/// It polls the combined file hash once a second and also reloads at once on SIGHUP. A
/// policy that fails validation is logged and counted, and the previous one stays in force,
/// so a typo in an edit never takes the gateway down.
struct PolicyReloader: Service {
    let holder: PolicyHolder
    let logger: Logger
    var interval: Duration = .seconds(1)
    var onReload: @Sendable (RuntimePolicy) -> Void = { _ in }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    reloadIfChanged(force: true)
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: interval)
                    reloadIfChanged(force: false)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Reloads when the files changed (or always, when forced); returns whether it swapped.
    @discardableResult
    func reloadIfChanged(force: Bool) -> Bool {
        let current = holder.policy
        guard let hash = PolicyFileLoader.currentHash(path: holder.path, previous: current.snapshot) else {
            holder.recordFailure("cannot read \(holder.path)")
            return false
        }
        if !force && (hash == current.fileHash || hash == holder.reloadStatus.failedHash) { return false }
        do {
            let next = try PolicyFileLoader.load(path: holder.path, generation: current.generation + 1, previous: current)
            if !force && next.fileHash == current.fileHash { return false }
            holder.replace(with: next)
            logger.info("policy reloaded", metadata: ["policy.hash": .string(next.fileHash), "policy.generation": .stringConvertible(next.generation)])
            for warning in PolicyWarnings.all(next.snapshot) { logger.warning("policy: \(warning)") }
            onReload(next)
            return true
        } catch {
            holder.recordFailure(String(describing: error), hash: hash)
            logger.error("policy reload failed, keeping the previous policy", metadata: ["policy.error": .string(String(describing: error))])
            return false
        }
    }
}
