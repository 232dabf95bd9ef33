import Testing

@testable import TollgateUpstream

@Suite struct ResponseHeadParserTests {
    func feed(_ lines: [String], into parser: inout ResponseHeadParser) -> [ResponseHeadParser.LineResult] {
        lines.map { line in
            Array(line.utf8).withUnsafeBytes { parser.consume(line: $0) }
        }
    }

    @Test func finalHeadHasLowercasedNamesAndTrimmedValues() {
        var parser = ResponseHeadParser()
        let results = feed(["HTTP/1.1 200 OK\r\n", "Content-Type:  application/json \r\n", "X-Req: 1\r\n", "\r\n"], into: &parser)
        #expect(
            results.last
                == .complete(.init(status: 200, headers: [("content-type", "application/json"), ("x-req", "1")])))
    }

    @Test func interimBlocksAreDiscarded() {
        var parser = ResponseHeadParser()
        let results = feed(
            [
                "HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 103 Early Hints\r\n", "Link: </a>\r\n", "\r\n",
                "HTTP/1.1 404 Not Found\r\n", "X-Final: yes\r\n", "\r\n",
            ], into: &parser)
        #expect(results.filter { $0 != .needMore } == [.complete(.init(status: 404, headers: [("x-final", "yes")]))])
    }

    @Test func http2StatusLineAndTrailersAfterCompletionAreIgnored() {
        var parser = ResponseHeadParser()
        let results = feed(["HTTP/2 429\r\n", "retry-after: 3\r\n", "\r\n", "x-trailer: late\r\n", "\r\n"], into: &parser)
        #expect(results[2] == .complete(.init(status: 429, headers: [("retry-after", "3")])))
        #expect(results[3] == .needMore && results[4] == .needMore)
    }

    @Test func foldedHeaderContinuesPreviousValue() {
        var parser = ResponseHeadParser()
        let results = feed(["HTTP/1.1 200 OK\r\n", "X-Long: a\r\n", "   b\r\n", "\r\n"], into: &parser)
        #expect(results.last == .complete(.init(status: 200, headers: [("x-long", "a b")])))
    }

    @Test func oversizedHeadIsRefused() {
        var parser = ResponseHeadParser(maxHeadBytes: 100)
        let results = feed(["HTTP/1.1 200 OK\r\n", "X-Big: \(String(repeating: "a", count: 200))\r\n"], into: &parser)
        #expect(results.last == .tooLarge)
    }
}
