/// Whether one request may be answered from the response cache, and under which key material.
///
/// Embeddings and chat completions (streamed or not: a stream is stored whole and replayed) are
/// cached; a chat completion, with `deterministic_only` (the default), only when the client asked
/// for `temperature: 0`: a sampled answer replayed to everyone would quietly
/// change what the application sees. Answers are cached per team (the key includes it), so one team
/// never reads another's prompts or answers.
public enum CacheDecision: Sendable, Equatable {
    /// Look up (and, on a miss, store) under `material`; hash it for the store key.
    case cacheable(material: [UInt8])
    /// Not cacheable; `reason` is for logs and tests, never sent to clients.
    case bypass(reason: String)

    /// Request fields that do not change the answer, left out of the key so they do not split it.
    static let ignoredFields: Set<String> = ["model", "stream", "stream_options", "user", "metadata", "store", "service_tier"]

    public static func decide(
        chat: ChatCompletionRequest, team: String, servedModel: String, variant: String, settings: CacheSettings
    ) -> CacheDecision {
        guard settings.enabled else { return .bypass(reason: "cache disabled") }
        if settings.deterministicOnly && chat.temperature != 0 { return .bypass(reason: "not deterministic (temperature is not 0)") }
        var body = chat.body
        for (field, value) in chat.overrides { body = body.setting(field, to: value) }
        return material(endpoint: "chat", body: body, sizeHint: chat.bytes.count, team: team, servedModel: servedModel, variant: variant)
    }

    /// Embeddings are deterministic (same input, same vector), so `deterministic_only` does not apply.
    public static func decide(
        embedding: EmbeddingsRequest, team: String, servedModel: String, variant: String, settings: CacheSettings
    ) -> CacheDecision {
        guard settings.enabled else { return .bypass(reason: "cache disabled") }
        return material(endpoint: "embeddings", body: embedding.body, sizeHint: embedding.bytes.count, team: team, servedModel: servedModel, variant: variant)
    }

    private static func material(endpoint: String, body: JSONValue, sizeHint: Int, team: String, servedModel: String, variant: String) -> CacheDecision {
        guard case .object(let members) = body else { return .bypass(reason: "body is not an object") }
        let kept = JSONValue.object(members.filter { !ignoredFields.contains($0.0) })
        var material: [UInt8] = []
        material.reserveCapacity(sizeHint + 64)
        for part in ["tollgate-cache-v1", endpoint, team, servedModel, variant] {
            material.append(contentsOf: part.utf8)
            material.append(0)
        }
        CanonicalJSON.write(kept, into: &material)
        return .cacheable(material: material)
    }
}
