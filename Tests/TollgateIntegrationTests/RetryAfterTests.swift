import Testing
@testable import TollgateServer

struct RetryAfterTests {
    @Test func providerRetryAfterIsPassedOnInWholeSecondsBoundedToAnHour() {
        #expect(RetryAfter.headerValue(0) == "1")
        #expect(RetryAfter.headerValue(0.2) == "1")
        #expect(RetryAfter.headerValue(2.5) == "3")
        #expect(RetryAfter.headerValue(1e12) == "3600")
        #expect(RetryAfter.seconds([("retry-after", "7")]).map(RetryAfter.headerValue) == "7")
    }
}
