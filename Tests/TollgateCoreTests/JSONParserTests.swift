import Testing
import TollgateCore

struct JSONParserTests {
    @Test func roundTripKeepsOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,false,null,1.50,-2e10,"x\n\"y\u00e9"],"c":{}}"#
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.string(value) == #"{"b":1,"a":[true,false,null,1.50,-2e10,"x\n\"yé"],"c":{}}"#)
    }

    @Test(arguments: [#"{"a":}"#, #"{"a":1,}"#, "[1 2]", #""\ud800""#, "01", "{}x", #"{"a":"\x"}"#, "nul"])
    func malformedInputIsRefused(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func deepNestingIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func rewritingOneFieldLeavesTheRestByteIdentical() throws {
        let body = Array(#"{ "model" : "alias", "x_unknown": {"k": [1, 2.0]}, "stream": false }"#.utf8)
        let (_, spans) = try JSONParser.parseObjectWithSpans(body)
        let out = BodyRewriter.replacing("model", with: .string("real-model"), in: body, spans: spans)
        #expect(String(decoding: out, as: UTF8.self) == #"{ "model" : "real-model", "x_unknown": {"k": [1, 2.0]}, "stream": false }"#)
    }

    @Test func rewritingSeveralFieldsAtOnceInsertsTheAbsentOnes() throws {
        let body = Array(#"{"model":"a","messages":[1],"x":{"k":2.50}}"#.utf8)
        let (_, spans) = try JSONParser.parseObjectWithSpans(body)
        let out = BodyRewriter.replacing(
            [("messages", .array([.number("9")])), ("model", .string("b")), ("stream_options", .object([("include_usage", .bool(true))]))],
            in: body, spans: spans)
        #expect(String(decoding: out, as: UTF8.self) == #"{"stream_options":{"include_usage":true},"model":"b","messages":[9],"x":{"k":2.50}}"#)
    }

    @Test func sseFramerJoinsEventsSplitAcrossChunks() throws {
        var framer = SSEFramer()
        var events: [[UInt8]] = []
        for piece in ["data: {\"a\"", ":1}\n", "\ndata: [DO", "NE]\r\n\r\n"] {
            events += try framer.feed(Array(piece.utf8))
        }
        #expect(events.count == 2)
        #expect(SSEEvent.data(events[0]) == Array("{\"a\":1}".utf8))
        #expect(SSEEvent.data(events[1]) == SSEEvent.done)
    }

    @Test func sseFramerBoundsAnEndlessEvent() {
        var framer = SSEFramer(maxEventBytes: 100)
        #expect(throws: SSEFramer.Oversized.self) { _ = try framer.feed(Array(repeating: UInt8(ascii: "a"), count: 200)) }
    }
}
