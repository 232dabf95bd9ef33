import Testing
import TollgateCore

@Test func canaryWeightsMustBeNonNegativeAndSumAboveZero() {
    #expect(CanaryConfig(weights: [90, 10]).validate() == [])
    #expect(CanaryConfig(weights: [0, 0]).validate() == ["variants: the weights sum to 0; at least one variant needs a positive weight"])
    #expect(CanaryConfig(weights: [90, -10]).validate() == ["variants[1].weight: must not be negative (got -10)"])
    #expect(CanaryConfig(weights: []).validate() == ["variants: at least one variant is required"])
    #expect(CanaryConfig(weights: [1_000_000, 1]).validate().count == 1)
}

@Test func ninetyTenSplitOverAThousandStickyIDsLandsSevenToThirteenPercentOnTheCanary() {
    let picker = CanaryPicker(weights: [90, 10], sticky: .key, salt: "gpt-4o")
    var random = ResilienceSeededRandom(seed: 1)
    let canary = (0..<1_000).filter { picker.pick(stickyID: "key_\($0)", using: &random) == 1 }.count
    #expect((70...130).contains(canary), "canary got \(canary) of 1000")
}

@Test func stickyIDStaysOnOneVariantAcrossRequestsAndPickerInstances() {
    var random = ResilienceSeededRandom(seed: 2)
    for id in (0..<50).map({ "key_\($0)" }) {
        let first = CanaryPicker(weights: [50, 50], sticky: .key, salt: "m").pick(stickyID: id, using: &random)
        for _ in 0..<100 {
            // A fresh picker each time stands in for a restart or another replica.
            #expect(CanaryPicker(weights: [50, 50], sticky: .key, salt: "m").pick(stickyID: id, using: &random) == first)
        }
    }
}

@Test func stableHashIsPinnedSoAssignmentsSurviveUpgrades() {
    // If this changes, every sticky client in production moves: change it only on purpose.
    // Cross-checked with an independent Python implementation of FNV-1a 64 + MurmurHash3 fmix64.
    #expect(StableHash.hash("") == 0xefd0_1f60_ba99_2926)
    #expect(StableHash.hash("key_1") == 0xee07_d1b9_edf9_79de)
    #expect([CanaryPicker.slot(for: "key_1"), CanaryPicker.slot(for: "key_2"), CanaryPicker.slot(for: "user@example.com", salt: "gpt-4o")] == pinnedSlots)
}

/// Slots computed once with FNV-1a + fmix64; pinned by `stableHashIsPinnedSoAssignmentsSurviveUpgrades`.
private let pinnedSlots = [9_298, 6_737, 5_981]

@Test func raisingTheCanaryFromTenToTwentyMovesOnlyTenPercentOfClients() {
    let before = CanaryPicker(weights: [90, 10], sticky: .key, salt: "gpt-4o")
    let after = CanaryPicker(weights: [80, 20], sticky: .key, salt: "gpt-4o")
    #expect(before.sliceEnds == [9_000, 10_000])
    #expect(after.sliceEnds == [8_000, 10_000])
    var random = ResilienceSeededRandom(seed: 3)
    var moved = 0
    for id in (0..<10_000).map({ "key_\($0)" }) {
        let old = before.pick(stickyID: id, using: &random)
        let new = after.pick(stickyID: id, using: &random)
        if old == 1 { #expect(new == 1, "a canary client must stay on the canary") }
        if old != new {
            moved += 1
            #expect(old == 0 && new == 1)
        }
    }
    #expect((800...1_200).contains(moved), "moved \(moved) of 10000")
}

@Test func everySlotChangeOnAWeightChangeIsTheMinimumTheRingAllows() {
    // With the ring, exactly |old boundary − new boundary| slots change owner.
    let before = CanaryPicker(weights: [90, 10], sticky: .key)
    let after = CanaryPicker(weights: [80, 20], sticky: .key)
    let changed = (0..<CanaryPicker.ringSize).filter { before.variant(atSlot: $0) != after.variant(atSlot: $0) }.count
    #expect(changed == 1_000)
}

@Test func rolledBackVariantIsNeverPickedAndOtherVariantsKeepTheirClients() {
    let all = CanaryPicker(weights: [50, 25, 25], sticky: .user, salt: "m")
    let withoutMiddle = all.excluding([1])
    #expect(withoutMiddle.sliceEnds == [6_666, 6_666, 10_000])
    var random = ResilienceSeededRandom(seed: 4)
    for id in (0..<2_000).map({ "user-\($0)" }) {
        let old = all.pick(stickyID: id, using: &random)
        let new = withoutMiddle.pick(stickyID: id, using: &random)
        #expect(new != 1)
        if old != 1 { #expect(new == old) }
    }
}

@Test func pickerWithNothingPickableReturnsNil() {
    var random = ResilienceSeededRandom(seed: 5)
    #expect(CanaryPicker(weights: [0, 0], sticky: .key).pick(stickyID: "a", using: &random) == nil)
    #expect(CanaryPicker(weights: [90, 10], sticky: .key, excluded: [0, 1]).pick(stickyID: "a", using: &random) == nil)
    #expect(CanaryPicker(weights: [], sticky: .none).pick(stickyID: nil, using: &random) == nil)
    #expect(CanaryPicker(weights: [0, -5, 3], sticky: .key).pick(stickyID: "a", using: &random) == 2)
}

@Test func stickyNoneDrawsFromTheInjectedRandomSourceByWeight() {
    let picker = CanaryPicker(weights: [90, 10], sticky: .none)
    var random = ResilienceSeededRandom(seed: 6)
    let picks = (0..<1_000).map { _ in picker.pick(stickyID: "same-key", using: &random) }
    let canary = picks.filter { $0 == 1 }.count
    #expect((70...130).contains(canary))
    // Same seed, same sequence: the randomness is injected, not global.
    var replay = ResilienceSeededRandom(seed: 6)
    #expect((0..<1_000).map { _ in picker.pick(stickyID: "same-key", using: &replay) } == picks)
}

@Test func missingStickyIDFallsBackToARandomDraw() {
    let picker = CanaryPicker(weights: [50, 50], sticky: .user)
    var random = ResilienceSeededRandom(seed: 7)
    let picks = Set((0..<100).map { _ in picker.pick(stickyID: nil, using: &random) })
    #expect(picks == [0, 1])
}

@Test func saltKeepsOneClientsPositionIndependentBetweenModels() {
    let differing = (0..<200).filter { CanaryPicker.slot(for: "key_\($0)", salt: "a") != CanaryPicker.slot(for: "key_\($0)", salt: "b") }
    #expect(differing.count > 190)
}
