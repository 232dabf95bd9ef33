/// Converts token counts to cost in micro-USD from a model's `price` (USD per 1M tokens).
///
/// USD per million tokens times tokens is exactly micro-USD, so `tokens * price` needs no scaling;
/// it is rounded up so a budget is never under-charged.
public enum CostMath {
    public static func costMicros(promptTokens: Int, completionTokens: Int, inputPer1M: Double, outputPer1M: Double) -> Int64 {
        let input = inputPer1M.isFinite ? max(0, inputPer1M) : 0
        let output = outputPer1M.isFinite ? max(0, outputPer1M) : 0
        let micros = Double(max(0, promptTokens)) * input + Double(max(0, completionTokens)) * output
        guard micros.isFinite, micros < 9e15 else { return Int64(9e15) }
        return Int64(micros.rounded(.up))
    }

    /// USD ceilings from the policy become micro-USD for the stores.
    public static func micros(usd: Double) -> Int64 {
        guard usd.isFinite, usd > 0 else { return 0 }
        return Int64(min(usd * 1_000_000, 9e15).rounded(.down))
    }
}
