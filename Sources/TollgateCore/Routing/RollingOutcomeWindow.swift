/// Successes and failures over a rolling time window, in a fixed number of buckets.
///
/// Memory is bounded by the bucket count whatever the traffic; the price is that the window's edge is as
/// coarse as one bucket (a window of 60 s in 60 buckets forgets a request between 59 and 60 s later).
struct RollingOutcomeWindow: Sendable {
    private struct Bucket {
        var epoch: Int64 = .min
        var successes = 0
        var failures = 0
    }

    private let bucketNanos: Int64
    private var buckets: [Bucket]
    /// Newest bucket epoch seen. Concurrent callers read the clock before taking the lock, so samples can arrive
    /// a little out of order; a late one is counted in the newest bucket rather than overwriting a live slot.
    private var latestEpoch: Int64 = 0

    init(window: Duration, bucketCount: Int = 60) {
        let count = max(1, bucketCount)
        buckets = Array(repeating: Bucket(), count: count)
        bucketNanos = max(1, window.saturatingNanoseconds / Int64(count))
    }

    /// - Parameter elapsed: time since the owner's origin; the caller guarantees it never decreases much.
    mutating func add(failure: Bool, elapsed: Duration) {
        let epoch = max(latestEpoch, max(0, elapsed.saturatingNanoseconds) / bucketNanos)
        latestEpoch = epoch
        let index = Int(epoch % Int64(buckets.count))
        if buckets[index].epoch != epoch { buckets[index] = Bucket(epoch: epoch) }
        if failure { buckets[index].failures += 1 } else { buckets[index].successes += 1 }
    }

    func totals(elapsed: Duration) -> (requests: Int, failures: Int) {
        let epoch = max(latestEpoch, max(0, elapsed.saturatingNanoseconds) / bucketNanos)
        let oldest = epoch - Int64(buckets.count) + 1
        var requests = 0
        var failures = 0
        for bucket in buckets where bucket.epoch >= oldest && bucket.epoch <= epoch {
            requests += bucket.successes + bucket.failures
            failures += bucket.failures
        }
        return (requests, failures)
    }
}
