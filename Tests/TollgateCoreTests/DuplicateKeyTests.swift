import Foundation
import Testing
import TollgateCore

/// Client bodies naming a key twice are refused: the gateway would screen one value while a
/// provider's parser may forward another.
struct DuplicateKeyTests {
    @Test(arguments: [
        #"{"model":"m","messages":[{"role":"user","content":"hello","content":"jane.doe@example.com"}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}"#,
        #"{"model":"m","model":"n","messages":[{"role":"user","content":"x"}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":"x","cont\u0065nt":"y"}]}"#,
    ])
    func chatBodyWithADuplicateKeyAtAnyDepthIsRefusedNamingTheKey(text: String) {
        #expect {
            _ = try ChatCompletionRequest.parse(Array(text.utf8))
        } throws: { error in
            guard let error = error as? GatewayError else { return false }
            return error.status == 400 && error.type == "invalid_request_error" && error.param == nil
                && error.message.contains("more than once")
                && (error.message.contains("'content'") || error.message.contains("'text'") || error.message.contains("'model'"))
        }
    }

    @Test func embeddingsBodyWithADuplicateKeyIsRefused() {
        let text = #"{"model":"e","input":"a","input":"jane.doe@example.com"}"#
        #expect(throws: GatewayError.invalidRequest(
            "The JSON body of your request has the key 'input' more than once in one object; send each key once.")) {
            _ = try EmbeddingsRequest.parse(Array(text.utf8))
        }
    }

    @Test func duplicateInALargeObjectIsFoundPastTheLinearScan() {
        let members = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        let text = #"{"model":"m","x":{\#(members),"k3":0}}"#
        #expect(throws: JSONParseError.self) {
            _ = try JSONParser.parseObjectWithSpans(Array(text.utf8), rejectDuplicateKeys: true)
        }
        let distinct = #"{"model":"m","x":{\#(members)}}"#
        #expect(throws: Never.self) {
            _ = try JSONParser.parseObjectWithSpans(Array(distinct.utf8), rejectDuplicateKeys: true)
        }
    }

    @Test func sameKeyInSiblingObjectsIsNotADuplicate() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}"#
        let request = try ChatCompletionRequest.parse(Array(text.utf8))
        #expect(request.model == "m")
    }

    @Test func providerResponsesStayLenient() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#)["a"] == .number("2"))
    }
}

/// The duplicate check is on the hot path of every request; prints the cost next to the lenient parse.
/// BENCHMARK, timed: runs only with `TOLLGATE_BENCH=1` (`TOLLGATE_BENCH=1 swift test --filter DuplicateKeyCostFigures`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TOLLGATE_BENCH"] == "1"))
struct DuplicateKeyCostFigures {
    @Test func duplicateKeyCheckCostsLittleOnATypicalChatBody() throws {
        let messages = (0..<20).map { #"{"role":"\#($0 % 2 == 0 ? "user" : "assistant")","content":"message number \#($0) with some ordinary text in it, a few words long.","name":"n\#($0)"}"# }
        let body = Array(#"{"model":"gpt-4o-mini","temperature":0.2,"max_tokens":300,"stream":false,"user":"u1","metadata":{"a":"1","b":"2"},"messages":[\#(messages.joined(separator: ","))]}"#.utf8)
        let clock = ContinuousClock()
        func median(_ reject: Bool) throws -> Duration {
            var samples: [Duration] = []
            for _ in 0..<7 {
                let start = clock.now
                for _ in 0..<2_000 { _ = try JSONParser.parseObjectWithSpans(body, rejectDuplicateKeys: reject) }
                samples.append((clock.now - start) / 2_000)
            }
            return samples.sorted()[3]
        }
        _ = try median(true)
        let lenient = try median(false)
        let strict = try median(true)
        print("FIGURE json parse \(body.count) B chat body: lenient \(lenient), rejecting duplicates \(strict)")
        #expect(strict < lenient * 3)
    }
}
