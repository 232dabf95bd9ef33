import Testing
import TollgateCore

/// A streamed answer rebuilt whole for the cache, and a cached answer replayed as a stream.
@Suite struct StreamAssemblerTests {
    func feed(_ events: [String]) -> StreamAssembler {
        var assembler = StreamAssembler()
        for event in events { assembler.feed(data: Array(event.utf8)) }
        return assembler
    }

    static let textStream = [
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"gpt","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"gpt","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"gpt","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        #"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"gpt","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        "[DONE]",
    ]

    @Test func contentDeltasBecomeOneMessageWithFinishReasonAndUsage() throws {
        let completion = try #require(feed(Self.textStream).completion())
        #expect(completion["object"] == .string("chat.completion"))
        #expect(completion["id"] == .string("c1"))
        let choice = try #require(completion["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == .string("Hello"))
        #expect(choice["message"]?["role"] == .string("assistant"))
        #expect(choice["finish_reason"] == .string("stop"))
        #expect(completion["usage"]?["total_tokens"]?.intValue == 5)
    }

    @Test func toolCallArgumentsStreamedInPiecesAreJoinedPerCall() throws {
        let completion = try #require(feed([
            #"{"id":"c2","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
            #"{"id":"c2","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}"#,
            #"{"id":"c2","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}"#,
            #"{"id":"c2","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}"#,
            #"{"id":"c2","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ]).completion())
        let calls = try #require(completion["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue)
        #expect(calls.count == 2)
        #expect(calls[0]["id"] == .string("call_a"))
        #expect(calls[0]["function"]?["arguments"] == .string(#"{"city":"Paris"}"#))
        #expect(calls[1]["function"]?["name"] == .string("get_time"))
        #expect(completion["choices"]?.arrayValue?.first?["message"]?["content"] == .null)
    }

    @Test func aStreamCutShortOrMalformedIsNotWhole() {
        #expect(feed(Array(Self.textStream.dropLast())).completion() == nil, "no [DONE]")
        #expect(feed(Array(Self.textStream.prefix(3)) + ["[DONE]"]).completion() == nil, "no finish_reason")
        #expect(feed(Array(Self.textStream.prefix(2)) + ["{not json", "[DONE]"]).completion() == nil)
        var small = StreamAssembler(maxBytes: 100)
        for event in Self.textStream { small.feed(data: Array(event.utf8)) }
        #expect(small.completion() == nil, "over the size bound")
    }

    @Test func aReplayedCompletionStreamsBackToTheSameCompletion() throws {
        let original = try #require(feed(Self.textStream).completion())
        let replay = CompletionReplay.events(of: original, includeUsage: true)
        var framer = SSEFramer()
        let events = try framer.feed(replay)
        #expect(events.last.flatMap(SSEEvent.data) == SSEEvent.done)
        var again = StreamAssembler()
        for event in events { if let data = SSEEvent.data(event) { again.feed(data: data) } }
        #expect(again.completion() == original)
        let withoutUsage = try framer.feed(CompletionReplay.events(of: original, includeUsage: false))
        #expect(!withoutUsage.contains { String(decoding: $0, as: UTF8.self).contains("\"usage\"") })
        #expect(String(decoding: replay, as: UTF8.self).contains(#""object":"chat.completion.chunk""#))
    }
}
