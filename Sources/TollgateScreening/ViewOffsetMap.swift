/// How a derived view whose rewrite removed or inserted bytes (split words rejoined, the letters-only
/// view of leetspeak) lines up with the view it came from, so the keyword hits of that view can be
/// reused away from the rewrites instead of walking the trie over the whole derived view again
/// (see `KeywordIndex.hits`). Ordinary text has a rewrite every ~100 bytes, so the ranges a derived
/// view is searched in cover most of it, but the bytes a trie walk reads are almost all unchanged.
struct ViewOffsetMap {
    /// From `derived` on (until the next breakpoint), derived position q holds base byte
    /// `q - derived + base`. Before the first breakpoint the positions are equal. Ascending in both.
    private(set) var breakpoints: [(derived: Int, base: Int)] = []
    /// Derived positions whose byte is not the base byte it maps to, or that follow a removed base
    /// byte: a trie walk that reads one of them may differ from the base's. Ascending.
    private(set) var touched: [Int] = []

    /// A map for bytes removed from the base: `removals` are the derived positions of the bytes that
    /// followed each removed one (ascending, one removed byte each, as `joinSplitWords` reports them);
    /// `rewritten` are base positions rewritten in place before the removal (e.g. leetspeak).
    static func removing(at removals: [Int], rewrittenInBase rewritten: [Int] = []) -> ViewOffsetMap {
        var map = ViewOffsetMap()
        map.breakpoints.reserveCapacity(removals.count)
        for (count, position) in removals.enumerated() {
            map.breakpoints.append((derived: position, base: position + count + 1))
        }
        guard !rewritten.isEmpty else {
            map.touched = removals
            return map
        }
        var mapped: [Int] = []
        mapped.reserveCapacity(rewritten.count)
        var cursor = 0
        for position in rewritten { mapped.append(map.derivedPosition(ofBase: position, cursor: &cursor)) }
        map.touched = Self.mergeSorted(removals, mapped)
        return map
    }

    /// A map for bytes inserted into the base: `insertions` are their derived positions, ascending
    /// (as `InjectionNormalizer.compact(_:changedFrom:changes:)` reports the letters leetspeak added).
    static func inserting(at insertions: [Int]) -> ViewOffsetMap {
        var map = ViewOffsetMap()
        map.breakpoints.reserveCapacity(insertions.count)
        for (count, position) in insertions.enumerated() {
            map.breakpoints.append((derived: position + 1, base: position - count))
        }
        map.touched = insertions
        return map
    }

    /// The derived position of base position `position` (of the next kept byte for a removed one).
    /// `cursor` carries the breakpoint search between calls with non-decreasing positions.
    @inline(__always)
    func derivedPosition(ofBase position: Int, cursor: inout Int) -> Int {
        while cursor < breakpoints.count, breakpoints[cursor].base <= position { cursor += 1 }
        guard cursor > 0 else { return position }
        let breakpoint = breakpoints[cursor - 1]
        return position - breakpoint.base + breakpoint.derived
    }

    private static func mergeSorted(_ lhs: [Int], _ rhs: [Int]) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(lhs.count + rhs.count)
        var left = 0
        var right = 0
        while left < lhs.count || right < rhs.count {
            if right == rhs.count || (left < lhs.count && lhs[left] <= rhs[right]) {
                result.append(lhs[left])
                left += 1
            } else {
                result.append(rhs[right])
                right += 1
            }
        }
        return result
    }
}
