import Synchronization

/// The gateway's HTTP client for model providers, built on libcurl's multi interface.
///
/// A small fixed set of dedicated threads (default one) each own a curl multi handle and run
/// every transfer assigned to them, so no blocking network call ever runs on a NIO event loop or
/// the Swift cooperative pool. Keeping the multi handles for the client's lifetime lets curl
/// reuse connections (and HTTP/2 multiplexing over TLS) to each provider. Create one per
/// process and call `shutdown()` when done.
public final class CurlClient: Sendable {
    private let workers: [CurlWorker]
    private let nextID = Atomic<Int>(0)
    private let bodyLimits: BodyBuffer.Limits

    /// - Parameters:
    ///   - threads: curl threads (clamped to 1...16); one handles thousands of concurrent streams,
    ///     a second helps when TLS handshakes dominate.
    ///   - maxConnections: idle connections curl keeps open for reuse, across all threads.
    public convenience init(threads: Int = 1, maxConnections: Int = 256) {
        self.init(threads: threads, maxConnections: maxConnections, bodyLimits: .standard)
    }

    init(threads: Int, maxConnections: Int, bodyLimits: BodyBuffer.Limits, maxInFlightPerThread: Int = 8192) {
        let count = min(max(threads, 1), 16)
        let perThread = max(1, maxConnections / count)
        self.bodyLimits = bodyLimits
        self.workers = (0..<count).map { index in
            CurlWorker(name: "tollgate-curl-\(index)", maxConnections: perThread, maxInFlight: maxInFlightPerThread)
        }
        for worker in workers { worker.start() }
    }

    deinit {
        for worker in workers { worker.shutdown(wait: false) }
    }

    /// Sends `request` and returns as soon as the final response's status and headers arrived;
    /// the body streams afterwards through `UpstreamResponse.body`.
    ///
    /// Cancelling the calling task before the headers arrive aborts the transfer and throws
    /// `.cancelled`.
    /// `abort`, when fired, does the same as cancelling the task, from anywhere, and afterwards
    /// cancels the response body.
    public func execute(_ request: UpstreamRequest, abort: UpstreamAbort? = nil) async throws(UpstreamError) -> UpstreamResponse {
        try RequestValidation.validate(request)
        if Task.isCancelled || abort?.isFired == true { throw .cancelled }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        let worker = workers[id % workers.count]
        let transfer = CurlTransfer(id: id, request: request, limits: bodyLimits) { [weak worker] id in
            worker?.requestAttention(id)
        }
        switch worker.submit(transfer) {
        case nil: break
        case .shuttingDown: throw .cancelled
        case .overloaded: throw .transferFailed("too many upstream transfers in flight")
        }
        abort?.setHandler {
            if transfer.handoff.deliver(.failure(.cancelled)) { transfer.signals.requestCancel() }
        }
        let outcome = await withTaskCancellationHandler {
            await transfer.handoff.wait()
        } onCancel: {
            if transfer.handoff.deliver(.failure(.cancelled)) { transfer.signals.requestCancel() }
        }
        let response = try outcome.get()
        if let abort {
            let body = response.body
            abort.setHandler { body.cancel() }
        }
        return response
    }

    /// Stops the curl threads, failing in-flight transfers with `.cancelled` and releasing every
    /// handle. Blocks briefly (one loop iteration per thread); later `execute` calls throw
    /// `.cancelled`.
    public func shutdown() {
        for worker in workers { worker.shutdown(wait: true) }
    }

    /// Transfers submitted and not yet cleaned up, across all threads. Returns to zero once every
    /// response has been read, cancelled or dropped; a leak shows up here.
    public var activeTransfers: Int {
        workers.reduce(0) { $0 + $1.inFlight }
    }
}
