import Testing
@testable import TollgateServer

/// An outage that fails every request logs a line per key per interval, saying how many it left out.
@Suite struct LogThrottleTests {
    @Test func oneLinePerKeyPerIntervalWithTheCountLeftOut() {
        let throttle = LogThrottle(interval: .seconds(1))
        let start = ContinuousClock.now
        #expect(throttle.admit("a", now: start) == 0)
        #expect(throttle.admit("a", now: start + .milliseconds(10)) == nil)
        #expect(throttle.admit("a", now: start + .milliseconds(900)) == nil)
        #expect(throttle.admit("b", now: start + .milliseconds(900)) == 0, "keys are throttled apart")
        #expect(throttle.admit("a", now: start + .milliseconds(1_000)) == 2)
        #expect(throttle.admit("a", now: start + .milliseconds(2_500)) == 0)
    }
}
