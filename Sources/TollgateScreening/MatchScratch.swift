import CPCRE2
import Synchronization

/// Per-thread PCRE2 working memory: match data, a match context carrying the limits, and a JIT stack.
///
/// One scratch is used by exactly one caller at a time (checked out of `ScratchPool`), which is what
/// PCRE2 requires of match data and JIT stacks. It owns its C pointers, hence `@unchecked Sendable`.
final class MatchScratch: @unchecked Sendable {
    let matchData: OpaquePointer
    let matchContext: OpaquePointer
    private let jitStack: OpaquePointer?
    let ovectorPairs: Int

    init?(ovectorPairs: Int, limits: MatchLimits) {
        guard let context = pcre2_match_context_create_8(nil) else { return nil }
        guard let data = pcre2_match_data_create_8(UInt32(ovectorPairs), nil) else {
            pcre2_match_context_free_8(context)
            return nil
        }
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)
        let stack = pcre2_jit_stack_create_8(32 * 1024, limits.jitStackBytes, nil)
        if let stack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(stack)) }
        matchContext = context
        matchData = data
        jitStack = stack
        self.ovectorPairs = ovectorPairs
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(matchContext)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }
}

/// Bounds on one PCRE2 search so a pathological pattern/input pair gives up instead of spinning.
struct MatchLimits: Sendable {
    var matchLimit: UInt32 = 200_000
    var depthLimit: UInt32 = 10_000
    var heapLimitKiB: UInt32 = 8 * 1024
    var jitStackBytes: Int = 512 * 1024
}

/// A bounded pool of `MatchScratch`, so concurrent screens each get their own without allocating per call.
final class ScratchPool: Sendable {
    private let free = Mutex<[MatchScratch]>([])
    private let ovectorPairs: Int
    private let limits: MatchLimits
    private let capacity: Int

    init(ovectorPairs: Int, limits: MatchLimits = MatchLimits(), capacity: Int = 64) {
        self.ovectorPairs = ovectorPairs
        self.limits = limits
        self.capacity = capacity
    }

    /// Runs `body` with a scratch nobody else is using; returns nil only if PCRE2 cannot allocate.
    func withScratch<T>(_ body: (MatchScratch) -> T) -> T? {
        let reused = free.withLock { $0.popLast() }
        guard let scratch = reused ?? MatchScratch(ovectorPairs: ovectorPairs, limits: limits) else {
            return nil
        }
        let result = body(scratch)
        free.withLock { pool in
            if pool.count < capacity { pool.append(scratch) }
        }
        return result
    }
}
