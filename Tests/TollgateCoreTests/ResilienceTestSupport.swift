import TollgateCore

/// A seeded, reproducible random source (SplitMix64) so tests that involve jitter or `sticky: none`
/// give the same answer on every run.
struct ResilienceSeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `MonotonicInstant` at `seconds` after the test's origin.
func resilienceAt(_ seconds: Double) -> MonotonicInstant {
    MonotonicInstant(nanoseconds: Int64((seconds * 1_000_000_000).rounded()))
}
