import Testing
import TollgateScreening

@Test func redactionUsesTypedNumberedPlaceholdersAndRestores() {
    let session = RedactionSession()
    let text = "Write to ann@example.org or bob@example.net, again ann@example.org; card 4111 1111 1111 1111."
    let redacted = TestEngine.shared.redact(text, types: [.EMAIL, .CREDIT_CARD], session: session)
    #expect(redacted == "Write to [EMAIL_1] or [EMAIL_2], again [EMAIL_1]; card [CREDIT_CARD_1].")
    #expect(session.restore("Reply sent to [EMAIL_2] and [EMAIL_9].") == "Reply sent to bob@example.net and [EMAIL_9].")
}

@Test func issuedPlaceholdersNeverCollideWithPlaceholderShapedTextInTheRequest() {
    let session = RedactionSession()
    let request = "Literally type [EMAIL_1] or [[EMAIL_3] and [PHONE_x] and also ann@example.org"
    session.reservePlaceholderNumbers(in: [request, "[EMAIL_99999999999999999999999]"])
    let redacted = TestEngine.shared.redact(request, types: [.EMAIL], session: session)
    #expect(redacted == "Literally type [EMAIL_1] or [[EMAIL_3] and [PHONE_x] and also [EMAIL_4]")
    let counts = session.counts
    #expect(counts == [.EMAIL: 1])
    #expect(session.restore(redacted, issuedBefore: counts) == request)
    // A placeholder the response screen issues later is still not restored.
    let later = TestEngine.shared.redact("cc bob@example.net", types: [.EMAIL], session: session)
    #expect(later == "cc [EMAIL_5]")
    #expect(session.restore(later, issuedBefore: counts) == later)
}

@Test func allowedTypesAreLeftInPlace() {
    let session = RedactionSession()
    let redacted = TestEngine.shared.redact("ip 10.0.0.7 mail a@b.io", types: [.EMAIL], session: session)
    #expect(redacted == "ip 10.0.0.7 mail [EMAIL_1]")
}

@Test func streamRedactorCatchesEmailSplitAcrossChunks() {
    let session = RedactionSession()
    var stream = StreamRedactor(engine: TestEngine.shared, types: [.EMAIL], session: session, window: 64, minimumHold: 32)
    let chunks = ["Sure! You can reach the team at sup", "port@exa", "mple.com any time; they answer ", "within a day, usually faster than that."]
    var output = ""
    for chunk in chunks {
        output += stream.feed(chunk)
    }
    output += stream.finish()
    #expect(output == "Sure! You can reach the team at [EMAIL_1] any time; they answer within a day, usually faster than that.")
    #expect(!output.contains("sup"))
}

@Test func streamRedactorDelaysByAtMostTheWindow() {
    let session = RedactionSession()
    var stream = StreamRedactor(engine: TestEngine.shared, types: Set(PIIType.allCases), session: session, window: 40, minimumHold: 16)
    var received = 0
    var sent = 0
    for _ in 0..<50 {
        let chunk = "lorem ipsum dolor "
        sent += chunk.unicodeScalars.count
        received += stream.feed(chunk).unicodeScalars.count
        #expect(sent - received <= 40)
    }
    received += stream.finish().unicodeScalars.count
    #expect(received == sent)
}

@Test func streamRedactorDoesNotSplitAPhoneNumberAtItsSpaces() {
    let session = RedactionSession()
    var stream = StreamRedactor(engine: TestEngine.shared, types: [.PHONE], session: session, window: 64, minimumHold: 24)
    var output = ""
    for chunk in ["Call our office on +44 20 ", "7946 0958 or write in. ", "We are open from nine to five on weekdays."] {
        output += stream.feed(chunk)
    }
    output += stream.finish()
    #expect(output == "Call our office on [PHONE_1] or write in. We are open from nine to five on weekdays.")
}
