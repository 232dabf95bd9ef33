/// Estimates prompt tokens from message text before the provider has counted them.
///
/// The estimate only sizes a reservation that is corrected at settle time, so it errs high: about
/// four ASCII characters per token (OpenAI's rule of thumb for English), one token per non-ASCII
/// scalar (CJK and emoji are roughly that or less), plus the chat format's per-message overhead.
public enum TokenEstimator {
    /// Tokens the chat format adds per message (role and separators).
    public static let perMessageOverhead = 4
    /// Tokens that prime the assistant's reply.
    public static let replyPriming = 3

    public static func estimate(text: String) -> Int {
        var ascii = 0
        var other = 0
        for scalar in text.unicodeScalars {
            if scalar.isASCII { ascii += 1 } else { other += 1 }
        }
        return (ascii + 3) / 4 + other
    }

    /// Prompt estimate for a chat request given each message's text (content parts concatenated).
    public static func estimatePrompt(messages: [String]) -> Int {
        messages.reduce(replyPriming) { $0 + estimate(text: $1) + perMessageOverhead }
    }

    /// Tokens to reserve: prompt estimate plus the completion ceiling (`max_tokens` /
    /// `max_completion_tokens`, else the policy's default).
    /// `choices` (`n`) multiplies the completion part: every choice may use `maxTokens`, and all are billed.
    public static func reservation(promptEstimate: Int, maxTokens: Int?, defaultMaxTokens: Int, choices: Int = 1) -> Int {
        let perChoice = maxTokens.map { max(0, $0) } ?? max(0, defaultMaxTokens)
        let (completion, productOverflow) = perChoice.multipliedReportingOverflow(by: max(1, choices))
        let (sum, overflow) = promptEstimate.addingReportingOverflow(completion)
        return overflow || productOverflow ? Int.max / 2 : max(0, sum)
    }
}
