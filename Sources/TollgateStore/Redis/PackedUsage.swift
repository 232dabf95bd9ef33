import TollgateCore

/// One usage field of a Redis usage hash: requests, prompt tokens, completion tokens and micro-USD as
/// four little-endian doubles (32 bytes), the way `RedisScripts.settle` writes them with
/// `struct.pack('<dddd', …)`. Counts stay exact up to 2^53 (9e15 tokens or USD 9 billion).
struct PackedUsage {
    var requests: Double
    var promptTokens: Double
    var completionTokens: Double
    var costMicros: Double

    /// Nil unless `bytes` is exactly four doubles holding finite, non-negative whole numbers.
    init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        var values: [Double] = []
        for offset in stride(from: 0, to: 32, by: 8) {
            var bits: UInt64 = 0
            for byte in bytes[offset..<offset + 8].reversed() { bits = bits << 8 | UInt64(byte) }
            let value = Double(bitPattern: bits)
            guard value.isFinite, value >= 0, value < 9.2e18, value == value.rounded(.down) else { return nil }
            values.append(value)
        }
        (requests, promptTokens, completionTokens, costMicros) = (values[0], values[1], values[2], values[3])
    }

    func add(to counters: inout UsageCounters) {
        counters.requests += Int64(requests)
        counters.promptTokens += Int64(promptTokens)
        counters.completionTokens += Int64(completionTokens)
        counters.costMicros += Int64(costMicros)
    }
}
