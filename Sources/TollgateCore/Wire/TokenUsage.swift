/// Token counts as providers report them in `usage`.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }

    /// Reads an OpenAI `usage` object; nil when absent or malformed.
    public init?(json: JSONValue?) {
        guard let json, case .object = json else { return nil }
        guard let prompt = json["prompt_tokens"]?.intValue else { return nil }
        self.promptTokens = prompt
        self.completionTokens = json["completion_tokens"]?.intValue ?? 0
    }
}
