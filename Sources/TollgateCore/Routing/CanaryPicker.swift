/// Chooses the variant of a canary split for one request.
///
/// Each variant owns one contiguous slice of a fixed ring of 10,000 slots, in variant order, sized by its
/// weight. A sticky id hashes (`StableHash`, salted with the model name) to a fixed slot, so a client stays
/// on its variant across requests, restarts and replicas. When weights change, the slice boundaries move
/// and only the clients between the old and the new boundary change variant: raising a canary at the end of
/// the list from 10% to 20% moves exactly the 10% of clients in the slots it gains.
///
/// Variants excluded by an automatic rollback get no slice; their clients fall to the neighbouring
/// variants and come back when the exclusion is lifted.
public struct CanaryPicker: Sendable, Equatable {
    public static let ringSize = 10_000

    public let weights: [Int]
    public let sticky: StickyMode
    public let excluded: Set<Int>
    /// Exclusive end slot of each variant's slice; a variant with weight 0 has an empty slice.
    public let sliceEnds: [Int]
    private let salt: String

    /// - Parameters:
    ///   - weights: variant weights in policy order; negative weights count as 0 (validation reports them).
    ///   - salt: usually the model name, so one key's position is independent between models.
    ///   - excluded: indices of rolled-back variants, treated as weight 0.
    public init(weights: [Int], sticky: StickyMode, salt: String = "", excluded: Set<Int> = []) {
        self.weights = weights
        self.sticky = sticky
        self.excluded = excluded
        self.salt = salt
        let effective = weights.enumerated().map { excluded.contains($0.offset) ? 0 : max(0, $0.element) }
        let total = effective.reduce(0, +)
        var ends: [Int] = []
        ends.reserveCapacity(effective.count)
        var running = 0
        for weight in effective {
            running += weight
            ends.append(total > 0 ? running * Self.ringSize / total : 0)
        }
        sliceEnds = ends
    }

    /// True when at least one variant can be picked.
    public var hasPickableVariant: Bool { sliceEnds.last.map { $0 > 0 } ?? false }

    /// The same picker with a different set of rolled-back variants.
    public func excluding(_ indices: Set<Int>) -> CanaryPicker {
        CanaryPicker(weights: weights, sticky: sticky, salt: salt, excluded: indices)
    }

    /// The variant index for a request, or nil when every variant has weight 0.
    ///
    /// - Parameter stickyID: the key id (`sticky: key`) or the request's `user` field (`sticky: user`);
    ///   ignored for `sticky: none`. A missing id falls back to a random draw.
    public func pick(stickyID: String?, using random: inout some RandomNumberGenerator) -> Int? {
        guard hasPickableVariant else { return nil }
        let slot: Int
        if sticky != .none, let stickyID {
            slot = Self.slot(for: stickyID, salt: salt)
        } else {
            slot = Int.random(in: 0..<Self.ringSize, using: &random)
        }
        return variant(atSlot: slot)
    }

    /// The variant owning `slot` (0..<10,000), or nil when every variant has weight 0.
    public func variant(atSlot slot: Int) -> Int? {
        guard hasPickableVariant else { return nil }
        let clamped = min(max(0, slot), Self.ringSize - 1)
        // Few variants in practice: a linear scan beats a binary search.
        for (index, end) in sliceEnds.enumerated() where clamped < end { return index }
        return sliceEnds.count - 1
    }

    /// The ring slot of a sticky id.
    public static func slot(for stickyID: String, salt: String = "") -> Int {
        let key = salt.isEmpty ? stickyID : salt + "\u{0}" + stickyID
        return StableHash.reduce(StableHash.hash(key), into: ringSize)
    }
}
