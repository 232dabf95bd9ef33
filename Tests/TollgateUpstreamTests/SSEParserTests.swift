import Testing

import TollgateUpstream

@Suite struct SSEParserTests {
    func parse(_ text: String, splitEvery step: Int? = nil) throws -> [String] {
        var parser = SSEParser()
        let bytes = Array(text.utf8)
        guard let step else { return try parser.feed(bytes) }
        var events: [String] = []
        var index = 0
        while index < bytes.count {
            events += try parser.feed(bytes[index..<min(index + step, bytes.count)])
            index += step
        }
        return events
    }

    static let openAIStream =
        "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\n\n"
        + ": keep-alive\n\n"
        + "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"llo\"}}]}\r\n\r\n"
        + "data: [DONE]\n\n"

    @Test(arguments: [1, 2, 3, 5, 7, 64])
    func eventsSurviveArbitrarySplits(step: Int) throws {
        #expect(try parse(Self.openAIStream, splitEvery: step) == parse(Self.openAIStream))
        #expect(try parse(Self.openAIStream, splitEvery: step).count == 3)
        #expect(try parse(Self.openAIStream, splitEvery: step).last == "[DONE]")
    }

    @Test func crlfAndBareCRAndLFAllEndLines() throws {
        #expect(try parse("data: a\r\n\r\ndata: b\r\rdata: c\n\n") == ["a", "b", "c"])
    }

    @Test func crlfSplitBetweenCRAndLFIsOneLineBreak() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n".utf8)).isEmpty)  // the LF belongs to the CR, not a blank line
        #expect(try parser.feed(Array("\r\n".utf8)) == ["a"])
    }

    @Test func multiLineDataJoinsWithNewline() throws {
        #expect(try parse("data: first\ndata:second\ndata:  third\n\n") == ["first\nsecond\n third"])
    }

    @Test func commentsAndOtherFieldsAreNotPayload() throws {
        #expect(try parse(": comment\nevent: delta\nid: 7\nretry: 10\ndata: x\n\n") == ["x"])
    }

    @Test func eventWithoutDataIsNotDispatched() throws {
        #expect(try parse("event: ping\n\n: only a comment\n\n").isEmpty)
    }

    @Test func dataFieldWithoutColonIsAnEmptyPayload() throws {
        #expect(try parse("data\n\n") == [""])
    }

    @Test func incompleteTrailingEventIsHeldBack() throws {
        var parser = SSEParser()
        #expect(try parser.feed(Array("data: partial\n".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n".utf8)) == ["partial"])
    }

    @Test func leadingByteOrderMarkIsSkipped() throws {
        #expect(try parse("\u{FEFF}data: x\n\n") == ["x"])
    }

    @Test func oversizedEventThrows() {
        var parser = SSEParser(maxEventBytes: 16)
        #expect(throws: SSEParser.EventTooLarge(limit: 16)) {
            _ = try parser.feed(Array("data: \(String(repeating: "a", count: 32))".utf8))
        }
    }
}
