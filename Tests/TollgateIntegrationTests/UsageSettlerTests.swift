import Foundation
import Logging
import Synchronization
import Testing
import TollgateCore
@testable import TollgateServer
import TollgateStore

/// Usage corrections leave the request path, are retried only when the store certainly did not apply
/// them, and are never silently dropped.
@Suite struct UsageSettlerTests {
    @Test func settleReturnsBeforeTheStoreWriteFinishes() async throws {
        let store = try ScriptedSettleStore()
        store.holdSettles()
        let settler = UsageSettler(store: store, metrics: GatewayMetrics())
        await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger)
        #expect(settler.backlog == 1, "the correction is still pending while the caller has moved on")
        store.releaseSettles()
        await settler.drain(timeout: .seconds(5))
        #expect(settler.backlog == 0)
        #expect(store.appliedSettles == 1)
    }

    @Test func retriesACorrectionTheStoreNeverReceived() async throws {
        let store = try ScriptedSettleStore()
        store.failNext(2, with: .unreachable("Redis down"))
        let metrics = GatewayMetrics()
        let settler = UsageSettler(store: store, metrics: metrics)
        await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger)
        await settler.drain(timeout: .seconds(10))
        #expect(store.appliedSettles == 1)
        #expect(store.attempts == 3)
        #expect(!String(decoding: metrics.render(), as: UTF8.self).contains("usage_corrections_lost"))
    }

    @Test func doesNotResendACorrectionTheStoreMayHaveApplied() async throws {
        let store = try ScriptedSettleStore()
        store.failNext(1, with: .unavailable("connection lost after sending"))
        let metrics = GatewayMetrics()
        let settler = UsageSettler(store: store, metrics: metrics)
        await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger)
        await settler.drain(timeout: .seconds(5))
        #expect(store.attempts == 1, "sending it again could count its usage twice")
        #expect(String(decoding: metrics.render(), as: UTF8.self).contains("tollgate_usage_corrections_lost_total{operation=\"settle\"} 1"))
    }

    @Test func aFullBacklogMakesTheCallerWaitInsteadOfDropping() async throws {
        let store = try ScriptedSettleStore()
        store.holdSettles()
        let settler = UsageSettler(store: store, metrics: GatewayMetrics(), capacity: 1)
        await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger)
        let second = Task { await settler.submit(.refund(Self.reservation), logger: Self.logger) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(store.appliedRefunds == 0)
        store.releaseSettles()
        await second.value
        #expect(store.appliedRefunds == 1, "the over-capacity refund ran in the caller")
        await settler.drain(timeout: .seconds(5))
        #expect(store.appliedSettles == 1)
    }

    /// While the store is down the backlog fills with retries; the request that finds it full makes one
    /// attempt and moves on (counted as lost) instead of waiting out the five-minute retry window.
    @Test func aFullBacklogDuringAnOutageDoesNotHoldTheRequest() async throws {
        let store = try ScriptedSettleStore()
        store.failNext(1_000, with: .unreachable("Redis down"))
        let metrics = GatewayMetrics()
        let settler = UsageSettler(store: store, metrics: metrics, capacity: 2)
        for _ in 0..<2 { await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger) }
        let started = ContinuousClock.now
        for _ in 0..<5 { await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger) }
        #expect(ContinuousClock.now - started < .seconds(2), "an over-capacity caller waited on retries")
        #expect(String(decoding: metrics.render(), as: UTF8.self).contains("tollgate_usage_corrections_lost_total{operation=\"settle\"} 5"))
        #expect(settler.backlog == 2, "the first two are still being retried")
        await settler.shutDown(timeout: .seconds(10))
    }

    @Test func shutdownStopsRetryingAndGivesUp() async throws {
        let store = try ScriptedSettleStore()
        store.failNext(1_000, with: .unreachable("Redis down"))
        let metrics = GatewayMetrics()
        let settler = UsageSettler(store: store, metrics: metrics)
        await settler.submit(.settle(Self.reservation, Self.usage), logger: Self.logger)
        let started = ContinuousClock.now
        await settler.shutDown(timeout: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(8))
        #expect(settler.backlog == 0)
        #expect(String(decoding: metrics.render(), as: UTF8.self).contains("usage_corrections_lost"))
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let reservation = Reservation(team: "t", keyID: "k", admittedAt: Date(), tokenLimits: [], budgets: [])
    static let usage = UsageAmount(promptTokens: 1, completionTokens: 2, costMicros: 0)
}

/// A memory store whose settles and refunds can be held back or made to fail a number of times.
final class ScriptedSettleStore: StateStore {
    private struct Script {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var failures = 0
        var failure = StoreError.unavailable("")
        var attempts = 0
        var settles = 0
        var refunds = 0
    }

    private let memory: MemoryStore
    private let script = Mutex(Script())

    init() throws { memory = try MemoryStore(dataDirectory: nil) }

    var attempts: Int { script.withLock { $0.attempts } }
    var appliedSettles: Int { script.withLock { $0.settles } }
    var appliedRefunds: Int { script.withLock { $0.refunds } }

    func holdSettles() { script.withLock { $0.held = true } }

    func releaseSettles() {
        let waiters = script.withLock { state in
            state.held = false
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func failNext(_ count: Int, with error: StoreError) {
        script.withLock {
            $0.failures = count
            $0.failure = error
        }
    }

    private func pass() async throws {
        await withCheckedContinuation { continuation in
            let wait = script.withLock { state -> Bool in
                if state.held { state.waiters.append(continuation) }
                return state.held
            }
            if !wait { continuation.resume() }
        }
        try script.withLock { state in
            state.attempts += 1
            if state.failures > 0 {
                state.failures -= 1
                throw state.failure
            }
        }
    }

    func settle(_ reservation: Reservation, actual: UsageAmount) async throws {
        try await pass()
        script.withLock { $0.settles += 1 }
    }

    func refund(_ reservation: Reservation) async throws {
        try await pass()
        script.withLock { $0.refunds += 1 }
    }

    func insertKey(_ record: APIKeyRecord) async throws { try await memory.insertKey(record) }
    func key(hash: String) async throws -> APIKeyRecord? { try await memory.key(hash: hash) }
    func key(id: String) async throws -> APIKeyRecord? { try await memory.key(id: id) }
    func listKeys(team: String?) async throws -> [APIKeyRecord] { try await memory.listKeys(team: team) }
    func revokeKey(id: String, at: Date) async throws -> APIKeyRecord? { try await memory.revokeKey(id: id, at: at) }
    func admit(_ request: AdmissionRequest, now: Date) async throws -> AdmissionDecision { try await memory.admit(request, now: now) }
    func usage(team: String, period: BudgetPeriod, now: Date) async throws -> UsageReport {
        try await memory.usage(team: team, period: period, now: now)
    }
    func ping() async -> Bool { await memory.ping() }
    func keyInvalidations() -> AsyncStream<KeyInvalidation> { memory.keyInvalidations() }
    func shutdown() async { await memory.shutdown() }
}
