import CCurl
import Dispatch
import Foundation
import Synchronization

/// One dedicated thread driving one curl multi handle.
///
/// All blocking (`curl_multi_poll`) and every curl call for its transfers happen on this thread,
/// never on a NIO event loop or the Swift cooperative pool. Other threads talk to it only through
/// `inbox` (new transfers, attention requests, shutdown) and wake it with `curl_multi_wakeup`.
/// The multi handle outlives every transfer so curl's connection cache keeps connections to
/// providers warm between requests.
///
/// `@unchecked Sendable` is safe because the curl-thread-only fields (`active`, `byEasy`,
/// `easyPool`) are only touched from `run()`, the multi handle is only used from that thread
/// except for `curl_multi_wakeup`, which libcurl documents as callable from any thread, and
/// everything else is behind `inbox`'s mutex or atomic.
final class CurlWorker: @unchecked Sendable {
    private struct Inbox {
        var pending: [CurlTransfer] = []
        var attention: [Int] = []
        var inFlight = 0
        var wakePending = false
        var shuttingDown = false
    }

    enum SubmitError {
        case shuttingDown
        case overloaded
    }

    private let multi: UnsafeMutableRawPointer?
    private let inbox = Mutex(Inbox())
    private let inFlightCount = Atomic<Int>(0)
    private let maxInFlight: Int
    private let exited = DispatchSemaphore(value: 0)
    private let name: String

    // Curl-thread-only.
    private var active: [Int: CurlTransfer] = [:]
    private var byEasy: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var easyPool: [UnsafeMutableRawPointer] = []
    private let easyPoolLimit = 64
    /// No transfer can time out before this instant, so the O(n) deadline scan is skipped until
    /// then. Deadlines only move later (activity, pauses), except for new or resumed transfers,
    /// which lower it themselves.
    private var earliestPossibleDeadline = ContinuousClock.now

    init(name: String, maxConnections: Int, maxInFlight: Int) {
        CurlGlobal.ensureInitialized()
        self.name = name
        self.maxInFlight = maxInFlight
        self.multi = curl_multi_init()
        if let multi {
            _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxConnections))
        }
    }

    deinit {
        for easy in easyPool { curl_easy_cleanup(easy) }
        if let multi { curl_multi_cleanup(multi) }
    }

    func start() {
        let thread = Thread { [self] in
            self.run()
        }
        thread.name = name
        thread.start()
    }

    /// Transfers submitted and not yet cleaned up.
    var inFlight: Int { inFlightCount.load(ordering: .relaxed) }

    /// Queues a new transfer; returns why it was refused, if it was.
    func submit(_ transfer: CurlTransfer) -> SubmitError? {
        let (refusal, wake) = inbox.withLock { box -> (SubmitError?, Bool) in
            if box.shuttingDown || multi == nil { return (.shuttingDown, false) }
            if box.inFlight >= maxInFlight { return (.overloaded, false) }
            box.pending.append(transfer)
            box.inFlight += 1
            inFlightCount.add(1, ordering: .relaxed)
            return (nil, Self.claimWake(&box))
        }
        if wake { wakeUp() }
        return refusal
    }

    /// Queues a transfer id for the curl thread to inspect (cancel or resume).
    func requestAttention(_ id: Int) {
        let wake = inbox.withLock { box -> Bool in
            if box.shuttingDown { return false }
            box.attention.append(id)
            return Self.claimWake(&box)
        }
        if wake { wakeUp() }
    }

    /// Stops the thread: fails every transfer with `.cancelled`, releases all handles, and
    /// (when `wait` is true) blocks until the thread has exited, which takes one loop iteration.
    func shutdown(wait: Bool) {
        let first = inbox.withLock { box -> Bool in
            if box.shuttingDown { return false }
            box.shuttingDown = true
            return true
        }
        guard first, multi != nil else { return }
        wakeUp()
        if wait { exited.wait() }
    }

    private static func claimWake(_ box: inout Inbox) -> Bool {
        if box.wakePending { return false }
        box.wakePending = true
        return true
    }

    private func wakeUp() {
        if let multi { _ = curl_multi_wakeup(multi) }
    }

    // MARK: curl thread

    private func run() {
        guard let multi else { return }
        while true {
            let (newTransfers, attention, stop) = inbox.withLock { box in
                box.wakePending = false
                let taken = (box.pending, box.attention, box.shuttingDown)
                box.pending.removeAll(keepingCapacity: true)
                box.attention.removeAll(keepingCapacity: true)
                return taken
            }
            for transfer in newTransfers { begin(transfer, multi: multi) }
            for id in attention {
                guard let transfer = active[id] else { continue }
                transfer.signals.clearQueued()
                if transfer.signals.cancelRequested {
                    finish(transfer, multi: multi, forced: .cancelled)
                } else if transfer.body.takeResumeRequest(), let easy = transfer.easy {
                    transfer.markActivity()
                    noteDeadline(of: transfer)
                    // May call the write callback right here with data curl held while paused.
                    _ = curl_easy_pause(easy, CURLPAUSE_CONT)
                }
            }
            if stop {
                for transfer in Array(active.values) { finish(transfer, multi: multi, forced: .cancelled) }
                break
            }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            drainMessages(multi: multi)
            let waitMs = enforceDeadlines(multi: multi)
            var ready: Int32 = 0
            if curl_multi_poll(multi, nil, 0, Int32(waitMs), &ready) != CURLM_OK {
                usleep(1000)  // never spin if polling itself fails
            }
        }
        for easy in easyPool { curl_easy_cleanup(easy) }
        easyPool.removeAll()
        exited.signal()
    }

    private func begin(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer) {
        if transfer.signals.cancelRequested {
            settle(transfer, outcome: .failure(.cancelled))
            return
        }
        guard let easy = easyPool.popLast() ?? curl_easy_init() else {
            settle(transfer, outcome: .failure(.transferFailed("curl_easy_init failed")))
            return
        }
        let connectMs = transfer.request.timeouts.connect.wholeMillisecondsRoundedUp
        if let error = transfer.attach(to: easy, connectTimeoutMs: connectMs) {
            release(easy, of: transfer)
            settle(transfer, outcome: .failure(error))
            return
        }
        let added = curl_multi_add_handle(multi, easy)
        guard added == CURLM_OK else {
            release(easy, of: transfer)
            let message = curl_multi_strerror(added).map { String(cString: $0) } ?? "curl_multi_add_handle failed"
            settle(transfer, outcome: .failure(.transferFailed(message)))
            return
        }
        active[transfer.id] = transfer
        byEasy[easy] = transfer
        noteDeadline(of: transfer)
    }

    private func noteDeadline(of transfer: CurlTransfer) {
        let deadline = transfer.earliestPossibleDeadline(now: .now, bodyPaused: false)
        if deadline < earliestPossibleDeadline { earliestPossibleDeadline = deadline }
    }

    private func drainMessages(multi: UnsafeMutableRawPointer) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let transfer = byEasy[easy]
            else { continue }
            finish(transfer, multi: multi, code: message.pointee.data.result)
        }
    }

    /// Fails transfers whose first-byte, idle or total limit passed; returns how long the loop
    /// may sleep before the next one could.
    private func enforceDeadlines(multi: UnsafeMutableRawPointer) -> Int {
        let now = ContinuousClock.now
        let maxWait = now + .seconds(1)
        if now < earliestPossibleDeadline {
            return (min(earliestPossibleDeadline, maxWait) - now).wholeMillisecondsRoundedUp
        }
        var soonest = maxWait
        var expired: [(CurlTransfer, TimeoutPhase)] = []
        for transfer in active.values {
            let paused = transfer.body.isPaused
            let (deadline, phase) = transfer.nextDeadline(bodyPaused: paused)
            if deadline <= now {
                expired.append((transfer, phase))
            } else {
                soonest = min(soonest, transfer.earliestPossibleDeadline(now: now, bodyPaused: paused))
            }
        }
        earliestPossibleDeadline = soonest
        for (transfer, phase) in expired { finish(transfer, multi: multi, forced: .timeout(phase: phase)) }
        if !expired.isEmpty { return 0 }
        return max(0, (soonest - now).wholeMillisecondsRoundedUp)
    }

    /// Ends an active transfer because curl reported it done.
    private func finish(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer, code: CURLcode) {
        let outcome: Result<Void, UpstreamError>
        if code == CURLE_OK {
            transfer.deliverHeadFromInfo()
            outcome = .success(())
        } else if let reason = transfer.abortReason {
            outcome = .failure(reason)
        } else {
            outcome = .failure(
                CurlErrorMapping.error(
                    for: code, message: transfer.curlErrorMessage, connected: transfer.headComplete))
        }
        detach(transfer, multi: multi)
        settle(transfer, outcome: outcome)
    }

    /// Ends an active transfer for a reason of our own (cancel, timeout, shutdown).
    private func finish(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer, forced error: UpstreamError) {
        detach(transfer, multi: multi)
        settle(transfer, outcome: .failure(error))
    }

    private func detach(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer) {
        active[transfer.id] = nil
        guard let easy = transfer.easy else { return }
        byEasy[easy] = nil
        _ = curl_multi_remove_handle(multi, easy)
        release(easy, of: transfer)
    }

    private func release(_ easy: UnsafeMutableRawPointer, of transfer: CurlTransfer) {
        transfer.detach()
        curl_easy_reset(easy)
        if easyPool.count < easyPoolLimit {
            easyPool.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Tells the waiting caller (or the body consumer) how the transfer ended and drops its slot.
    private func settle(_ transfer: CurlTransfer, outcome: Result<Void, UpstreamError>) {
        // Release the slot before waking anyone, so a caller that sees the outcome also sees
        // `activeTransfers` without this transfer.
        inbox.withLock { $0.inFlight -= 1 }
        inFlightCount.subtract(1, ordering: .relaxed)
        switch outcome {
        case .success:
            transfer.body.finish(.success(()))
            transfer.releasePendingHead()
        case .failure(let error):
            if !transfer.handoff.deliver(.failure(error)) {
                transfer.body.finish(.failure(error))
            }
        }
    }
}
