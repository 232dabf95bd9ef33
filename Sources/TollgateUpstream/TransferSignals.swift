import Synchronization

/// The thread-safe doorbell of one transfer: other threads use it to ask the curl thread to
/// cancel or unpause the transfer, without touching anything curl owns.
///
/// Each transfer is queued for the curl thread's attention at most once at a time (`queued`),
/// so the attention queue is bounded by the number of transfers in flight.
final class TransferSignals: Sendable {
    let id: Int
    private let cancelFlag = Atomic<Bool>(false)
    private let queued = Atomic<Bool>(false)
    private let enqueue: @Sendable (Int) -> Void

    init(id: Int, enqueue: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.enqueue = enqueue
    }

    var cancelRequested: Bool { cancelFlag.load(ordering: .acquiring) }

    func requestCancel() {
        cancelFlag.store(true, ordering: .releasing)
        poke()
    }

    /// Asks the curl thread to look at this transfer (cancel flag, resume request).
    func poke() {
        if !queued.exchange(true, ordering: .acquiringAndReleasing) { enqueue(id) }
    }

    /// Called by the curl thread before it inspects the transfer, so a later poke re-queues it.
    func clearQueued() {
        queued.store(false, ordering: .releasing)
    }
}
