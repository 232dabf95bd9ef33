import Testing
import TollgateCore

/// Which requests the response cache may answer, and which requests share an entry.
@Suite struct CacheDecisionTests {
    static let on = CacheSettings(enabled: true, ttlSeconds: 60, deterministicOnly: true)

    func decide(_ json: String, team: String = "t1", served: String = "m", variant: String = "default", settings: CacheSettings = on) throws -> CacheDecision {
        let chat = try ChatCompletionRequest.parse(Array(json.utf8))
        return CacheDecision.decide(chat: chat, team: team, servedModel: served, variant: variant, settings: settings)
    }

    func material(_ decision: CacheDecision) -> [UInt8]? {
        if case .cacheable(let material) = decision { return material }
        return nil
    }

    @Test func deterministicNonStreamedRequestsAreCacheable() throws {
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}"#)) != nil)
    }

    @Test func sampledStreamedAndDisabledRequestsBypass() throws {
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)) == nil)
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#)) == nil)
        var off = Self.on
        off.enabled = false
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}"#, settings: off)) == nil)
    }

    @Test func aStreamedRequestSharesTheEntryOfTheSameNonStreamedOne() throws {
        let plain = material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}"#))
        let streamed = material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"stream":true,"stream_options":{"include_usage":true}}"#))
        #expect(plain != nil && streamed == plain)
    }

    @Test func withoutDeterministicOnlySampledRequestsAreCacheableToo() throws {
        var any = Self.on
        any.deterministicOnly = false
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.9}"#, settings: any)) != nil)
    }

    @Test func memberOrderNumberSpellingAndIgnoredFieldsDoNotSplitTheKey() throws {
        let a = try decide(#"{"model":"alias","messages":[{"role":"user","content":"hi"}],"temperature":0,"max_tokens":10}"#)
        let b = try decide(#"{"max_tokens":10.0,"user":"u1","temperature":0.0,"messages":[{"content":"hi","role":"user"}],"model":"m"}"#)
        #expect(material(a) != nil)
        #expect(material(a) == material(b))
    }

    @Test func teamServedModelVariantAndEveryAnswerShapingFieldSplitTheKey() throws {
        let base = #"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0}"#
        let reference = material(try decide(base))
        #expect(material(try decide(base, team: "t2")) != reference)
        #expect(material(try decide(base, served: "other")) != reference)
        #expect(material(try decide(base, variant: "canary")) != reference)
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi!"}],"temperature":0}"#)) != reference)
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"max_tokens":5}"#)) != reference)
        #expect(material(try decide(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0,"tools":[]}"#)) != reference)
    }

    @Test func theKeyIsTakenOverTheRedactedMessages() throws {
        var chat = try ChatCompletionRequest.parse(Array(#"{"model":"m","messages":[{"role":"user","content":"mail a@b.io"}],"temperature":0}"#.utf8))
        let raw = material(CacheDecision.decide(chat: chat, team: "t", servedModel: "m", variant: "v", settings: Self.on))
        chat.overrides.append(("messages", .array([.object([("role", .string("user")), ("content", .string("mail [EMAIL_1]"))])])))
        let redacted = material(CacheDecision.decide(chat: chat, team: "t", servedModel: "m", variant: "v", settings: Self.on))
        let other = try ChatCompletionRequest.parse(Array(#"{"model":"m","messages":[{"role":"user","content":"mail [EMAIL_1]"}],"temperature":0}"#.utf8))
        #expect(redacted != raw)
        #expect(redacted == material(CacheDecision.decide(chat: other, team: "t", servedModel: "m", variant: "v", settings: Self.on)))
    }

    @Test func embeddingsAreCacheableWithoutATemperatureAndNeverShareAChatEntry() throws {
        let embedding = try EmbeddingsRequest.parse(Array(#"{"model":"m","input":"hi"}"#.utf8))
        let decision = CacheDecision.decide(embedding: embedding, team: "t1", servedModel: "m", variant: "default", settings: Self.on)
        #expect(material(decision) != nil)
        var off = Self.on
        off.enabled = false
        #expect(material(CacheDecision.decide(embedding: embedding, team: "t1", servedModel: "m", variant: "default", settings: off)) == nil)
        let chat = try decide(#"{"model":"m","input":"hi","messages":[{"role":"user","content":"hi"}],"temperature":0}"#)
        #expect(material(chat) != material(decision))
    }

    @Test func clientCacheControlRefreshesOrBypasses() {
        #expect(ClientCacheDirective(cacheControl: nil) == .normal)
        #expect(ClientCacheDirective(cacheControl: "max-age=60") == .normal)
        #expect(ClientCacheDirective(cacheControl: "No-Cache") == .refresh)
        #expect(ClientCacheDirective(cacheControl: "private, max-age = 0") == .refresh)
        #expect(ClientCacheDirective(cacheControl: "no-cache, no-store") == .bypass)
    }

    @Test func cachedAnswersRoundTripAndForeignBytesAreRejected() {
        let answer = CachedAnswer(provider: "openai", target: "gpt-4o-mini", body: Array(#"{"id":"x"}"#.utf8))
        #expect(answer.encoded().flatMap(CachedAnswer.init(decoding:)) == answer)
        #expect(CachedAnswer(decoding: Array("garbage".utf8)) == nil)
        #expect(CachedAnswer(decoding: Array("tollgate-cache-1\nonly-one-line".utf8)) == nil)
        #expect(CachedAnswer(provider: "a\nb", target: "t", body: []).encoded() == nil)
    }
}
