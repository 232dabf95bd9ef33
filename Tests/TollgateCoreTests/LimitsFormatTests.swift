import Testing
import TollgateCore

struct LimitsFormatTests {
    @Test func base62RejectsBytesThatWouldBiasTheAlphabet() {
        var calls = 0
        let text = APIKeyFormat.base62(count: 4) { _ in
            calls += 1
            return calls == 1 ? [248, 255, 0, 61, 62, 247] : []
        }
        // 248 and 255 are discarded; 0→"0", 61→"z", 62→"0", 247 (=61+62*3)→"z".
        #expect(text == "0z0z")
    }

    @Test func base62AsksForMoreBytesAfterRejections() {
        var calls = 0
        let text = APIKeyFormat.base62(count: 3) { _ in
            calls += 1
            return calls == 1 ? [250, 251, 10] : [11, 12]
        }
        #expect(text == "ABC")
        #expect(calls == 2)
    }

    @Test func base62FailsInsteadOfReturningWeakOutput() {
        #expect(APIKeyFormat.base62(count: 3) { _ in [] } == nil)
    }

    @Test func secretAndIDShapesAreValidated() {
        let good = "sk-tg-" + String(repeating: "aZ09", count: 10)
        #expect(APIKeyFormat.isWellFormedSecret(good))
        #expect(!APIKeyFormat.isWellFormedSecret(good + "x"))
        #expect(!APIKeyFormat.isWellFormedSecret("sk-tg-" + String(repeating: "a-", count: 20)))
        #expect(!APIKeyFormat.isWellFormedSecret("sk-xx-" + String(repeating: "aZ09", count: 10)))
        #expect(APIKeyFormat.isWellFormedID("key_abcdefABCD12"))
        #expect(!APIKeyFormat.isWellFormedID("key_abc"))
    }

    @Test func tokenEstimateErrsHighAndCountsMessageOverhead() {
        #expect(TokenEstimator.estimate(text: "") == 0)
        #expect(TokenEstimator.estimate(text: "abcd") == 1)
        #expect(TokenEstimator.estimate(text: "abcde") == 2)
        #expect(TokenEstimator.estimate(text: "日本語") == 3)
        #expect(TokenEstimator.estimatePrompt(messages: ["abcd", "abcd"]) == 3 + 2 * (1 + 4))
        #expect(TokenEstimator.reservation(promptEstimate: 13, maxTokens: 100, defaultMaxTokens: 4096) == 113)
        #expect(TokenEstimator.reservation(promptEstimate: 13, maxTokens: nil, defaultMaxTokens: 4096) == 4109)
        #expect(TokenEstimator.reservation(promptEstimate: 13, maxTokens: -5, defaultMaxTokens: 4096) == 13)
        // `n` choices may each use max_tokens, and each is billed.
        #expect(TokenEstimator.reservation(promptEstimate: 13, maxTokens: 100, defaultMaxTokens: 4096, choices: 3) == 313)
        #expect(TokenEstimator.reservation(promptEstimate: 13, maxTokens: Int.max / 2, defaultMaxTokens: 4096, choices: 8) == Int.max / 2)
    }
}
