import Testing
import TollgateScreening

@Test func findsEachEntityTypeWithCodePointOffsets() {
    let text = "Müller: bob@example.com, +41 44 564 16 62, 4111-1111-1111-1111, 078-05-1121, GB82 WEST 1234 5698 7654 32, 10.0.0.1, fe80::1:2, ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    let findings = TestEngine.shared.findPII(text)
    let types = findings.map(\.type)
    #expect(types == [.EMAIL, .PHONE, .CREDIT_CARD, .US_SSN, .IBAN, .IP_ADDRESS, .IP_ADDRESS, .SECRET])
    let scalars = Array(text.unicodeScalars)
    let email = findings[0]
    #expect(String(String.UnicodeScalarView(scalars[email.start..<email.end])) == "bob@example.com")
    #expect(String(text[email.range]) == "bob@example.com")
}

@Test func validatorsRejectLookAlikes() {
    let text = "order 4111-1111-1111-1112, ssn 666-12-3456, iban GB00 WEST 1234 5698 7654 32, build 1.2.300.4, sk-learn, YOUR_API_KEY_HERE"
    #expect(TestEngine.shared.findPII(text).isEmpty)
}

@Test func offsetsMapBackThroughInvisibleAndFullWidthCharacters() {
    let text = "mail: ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ and 41\u{200B}11 1111 1111 1111"
    let findings = TestEngine.shared.findPII(text, types: [.EMAIL, .CREDIT_CARD])
    #expect(findings.map(\.type) == [.EMAIL, .CREDIT_CARD])
    #expect(String(text[findings[0].range]) == "ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ")
    #expect(findings[0].start == 6 && findings[0].end == 21)
    #expect(String(text[findings[1].range]) == "41\u{200B}11 1111 1111 1111")
}

@Test func pemPrivateKeyIsOneSecretSpan() {
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----"
    let findings = TestEngine.shared.findPII("key:\n" + key + "\nthanks")
    #expect(findings.count == 1)
    #expect(findings.first?.type == .SECRET)
    #expect(findings.first.map { $0.end - $0.start } == key.unicodeScalars.count)
}

@Test func onlyRequestedTypesAreReported() {
    let text = "bob@example.com 10.1.2.3"
    #expect(TestEngine.shared.findPII(text, types: [.IP_ADDRESS]).map(\.type) == [.IP_ADDRESS])
    #expect(TestEngine.shared.findPII(text, types: []).isEmpty)
}
