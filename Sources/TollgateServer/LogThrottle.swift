import Synchronization

/// Lets one log line per key through per interval and counts the rest.
///
/// An outage (Redis down under fail_closed, every provider failing) fails every request the same
/// way; a line per request would write thousands of identical lines a second and cost the CPU the
/// gateway needs to recover. Metrics still count every request; the line that gets through says
/// how many were left out before it. Keys are error codes, a small fixed set.
final class LogThrottle: Sendable {
    private struct Slot {
        var last: ContinuousClock.Instant
        var suppressed: Int
    }

    private let interval: Duration
    private let slots = Mutex<[String: Slot]>([:])

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Nil when this line should be left out; otherwise how many were left out since the last one.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        slots.withLock { slots in
            guard var slot = slots[key] else {
                slots[key] = Slot(last: now, suppressed: 0)
                return 0
            }
            guard now - slot.last >= interval else {
                slot.suppressed += 1
                slots[key] = slot
                return nil
            }
            let suppressed = slot.suppressed
            slots[key] = Slot(last: now, suppressed: 0)
            return suppressed
        }
    }
}
