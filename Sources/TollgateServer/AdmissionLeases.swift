import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStore

/// This replica's admission leases (`AdmissionLeaseBook`) in front of a remote store.
///
/// A request a lease covers is admitted under a lock without suspending; any other goes to the store
/// (asking for a lease when its identity has steady demand). Unspent capacity goes back through the
/// usage settler, which retries it like any correction, so a returned lease is never silently lost.
final class AdmissionLeases: Sendable {
    private let book: Mutex<AdmissionLeaseBook>
    private let store: any StateStore
    private let settler: UsageSettler
    private let metrics: GatewayMetrics

    init(store: any StateStore, settler: UsageSettler, metrics: GatewayMetrics, settings: AdmissionLeaseBook.Settings = .init()) {
        self.book = Mutex(AdmissionLeaseBook(settings: settings))
        self.store = store
        self.settler = settler
        self.metrics = metrics
    }

    var leaseCount: Int { book.withLock { $0.leaseCount } }

    /// While the store is known to be down, nothing is admitted from a lease: the request goes to the
    /// store, fails, and `state.on_unavailable` decides, as operators expect of an outage (the leases
    /// stay charged and go back once Redis answers again).
    func admit(_ request: AdmissionRequest, now: Date, logger: Logger) async throws -> AdmissionDecision {
        if store.isKnownUnreachable { return try await store.admit(request, now: now) }
        let forward: AdmissionLeaseBook.Forward
        switch book.withLock({ $0.admit(request, now: now) }) {
        case .admitted(let admission): return .admitted(admission)
        case .forward(let next): forward = next
        }
        let decision: AdmissionDecision
        do {
            decision = try await store.admit(forward.request, now: now)
        } catch {
            book.withLock { $0.abandon(forward) }
            throw error
        }
        let (result, retired) = book.withLock { $0.complete(forward, decision: decision, now: now) }
        if case .admitted(let admission) = decision, admission.leasedMultiple > 1 {
            metrics.count("admission_leases_granted", labels: [("team", request.team)])
        }
        if let retired { await settler.submit(.refund(retired), logger: logger) }
        return result
    }

    /// Gives back what expired leases did not spend.
    func expire(now: Date, logger: Logger) async {
        for unspent in book.withLock({ $0.expire(now: now) }) { await settler.submit(.refund(unspent), logger: logger) }
    }

    /// Gives back every lease (shutdown, or the policy switched to exact admission).
    func returnAll(logger: Logger) async {
        for unspent in book.withLock({ $0.returnAll() }) { await settler.submit(.refund(unspent), logger: logger) }
    }
}

/// Returns expired leases four times per lease lifetime, and every lease on shutdown (before the
/// usage settler drains: it is listed after it, and services stop in reverse order).
struct AdmissionLeaseService: Service {
    let leases: AdmissionLeases
    let holder: PolicyHolder
    let logger: Logger
    var sweepInterval: Duration = .milliseconds(250)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: sweepInterval)
                if holder.policy.snapshot.state.admission == .exact {
                    await leases.returnAll(logger: logger)
                } else {
                    await leases.expire(now: Date(), logger: logger)
                }
            }
        }
        await leases.returnAll(logger: logger)
    }
}
