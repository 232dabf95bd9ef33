/// First-in first-out queue of a worker's jobs awaiting replies (Redis answers in order).
///
/// An array with a moving head: O(1) append and pop, storage reclaimed once the consumed head
/// outweighs what is left. Bounded by `RedisConnectionOptions.queueLimit` through its caller.
struct JobQueue {
    private var items: [RedisWorker.Job] = []
    private var head = 0

    var count: Int { items.count - head }
    var first: RedisWorker.Job? { head < items.count ? items[head] : nil }

    mutating func append(_ job: RedisWorker.Job) {
        items.append(job)
    }

    mutating func popFirst() -> RedisWorker.Job? {
        guard head < items.count else { return nil }
        let job = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Empties the queue, returning what was in it, oldest first.
    mutating func removeAll() -> [RedisWorker.Job] {
        defer {
            items.removeAll()
            head = 0
        }
        return Array(items[head...])
    }
}
