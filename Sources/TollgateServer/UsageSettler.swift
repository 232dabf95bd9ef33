import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStore

/// Writes usage corrections (settles and refunds) to the state store after the response has left.
///
/// The reservation taken at admission already holds the budget, so nothing needs the correction before
/// the client gets its answer; doing it inline would add a second store round trip to every request.
/// A correction is started in order (on Redis its command is written before `submit` returns, so the
/// next admission of this replica already sees it) and its reply is awaited elsewhere; at most
/// `capacity` are pending: beyond that the caller writes its own correction and waits for it
/// (back-pressure on a slow store, never a silent drop), but makes only that one attempt: while the
/// store is down the backlog is full of retries, and a request must not wait out their retry window.
/// A correction the store certainly did
/// not apply (`StoreError.certainlyNotApplied`: Redis unreachable, queue full) is retried with backoff
/// until `retryWindow` runs out; one that may have been applied (a reply lost mid-flight) is not sent
/// again, because settling twice would count its usage twice. Either loss is counted and logged (one
/// line per second at most: an outage loses corrections by the thousand).
final class UsageSettler: Sendable {
    enum Correction: Sendable {
        case settle(Reservation, UsageAmount)
        case refund(Reservation)

        var operation: String {
            switch self {
            case .settle: return "settle"
            case .refund: return "refund"
            }
        }

        var reservation: Reservation {
            switch self {
            case .settle(let reservation, _), .refund(let reservation): return reservation
            }
        }

        /// Nil for a refund.
        var actual: UsageAmount? {
            if case .settle(_, let actual) = self { return actual }
            return nil
        }
    }

    private let store: any StateStore
    private let metrics: GatewayMetrics
    private let capacity: Int
    private let retryWindow: Duration
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let lossLog = LogThrottle()

    init(store: any StateStore, metrics: GatewayMetrics, capacity: Int = 10_000, retryWindow: Duration = .seconds(300)) {
        self.store = store
        self.metrics = metrics
        self.capacity = max(1, capacity)
        self.retryWindow = retryWindow
    }

    /// Corrections not yet written (queued, in flight or waiting to retry).
    var backlog: Int { pending.load(ordering: .acquiring) }

    /// Starts the correction and returns without waiting for the store's reply, unless `capacity`
    /// corrections are already pending. The store orders it ahead of anything sent later (Redis: the
    /// command is on the socket when this returns), so this replica's next admission sees it.
    func submit(_ correction: Correction, logger: Logger) async {
        let admitted = pending.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= capacity
        guard admitted else {
            pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            await apply(correction, retryWindow: .zero, logger: logger)
            return
        }
        store.startCorrection(correction.reservation, actual: correction.actual) { error in
            guard let error else {
                self.pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                return
            }
            self.metrics.count("store_unavailable", labels: [("operation", correction.operation)])
            guard self.mayRetry(error, startedAt: ContinuousClock.now, delay: .zero, window: self.retryWindow) else {
                self.lost(correction, error: error.description, logger: logger)
                self.pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                return
            }
            Task {
                try? await Task.sleep(for: Self.firstRetryDelay)
                await self.apply(correction, retryWindow: self.retryWindow, logger: logger)
                self.pending.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            }
        }
    }

    /// Waits until every correction submitted before the call is written, or `timeout` passes; the
    /// usage report calls it so a client reading its usage right after a response sees that response.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while backlog > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Stops retrying (a shutting-down gateway gives each correction one last attempt) and waits for
    /// what is in flight.
    func shutDown(timeout: Duration) async {
        stopping.store(true, ordering: .releasing)
        await drain(timeout: timeout)
    }

    static let firstRetryDelay = Duration.milliseconds(250)

    /// Writes the correction, retrying while the store certainly did not apply it and `retryWindow`
    /// lasts (`.zero`: one attempt).
    private func apply(_ correction: Correction, retryWindow: Duration, logger: Logger) async {
        let started = ContinuousClock.now
        var delay = Self.firstRetryDelay
        while true {
            do {
                if let actual = correction.actual {
                    try await store.settle(correction.reservation, actual: actual)
                } else {
                    try await store.refund(correction.reservation)
                }
                return
            } catch let error as StoreError {
                metrics.count("store_unavailable", labels: [("operation", correction.operation)])
                guard mayRetry(error, startedAt: started, delay: delay, window: retryWindow) else {
                    lost(correction, error: error.description, logger: logger)
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            } catch {
                lost(correction, error: String(describing: error), logger: logger)
                return
            }
        }
    }

    /// Only what the store never received is sent again, and only until `retryWindow` or shutdown.
    private func mayRetry(_ error: StoreError, startedAt: ContinuousClock.Instant, delay: Duration, window: Duration) -> Bool {
        error.certainlyNotApplied && !stopping.load(ordering: .acquiring) && ContinuousClock.now - startedAt + delay < window
    }

    /// A lost settle leaves the budget charged at the reservation (the conservative side); a lost
    /// refund leaves a failed request charged.
    private func lost(_ correction: Correction, error: String, logger: Logger) {
        metrics.count("usage_corrections_lost", labels: [("operation", correction.operation)])
        guard let suppressed = lossLog.admit(correction.operation) else { return }
        logger.error(
            "could not \(correction.operation) usage; the reservation stays charged",
            metadata: ["store.error": .string(error), "log.suppressed_since_last": .stringConvertible(suppressed)])
    }
}

/// Gives pending usage corrections a last chance on shutdown, before the store closes.
struct UsageSettlerService: Service {
    let settler: UsageSettler
    var drainTimeout: Duration = .seconds(5)

    func run() async throws {
        try? await gracefulShutdown()
        await settler.shutDown(timeout: drainTimeout)
    }
}
