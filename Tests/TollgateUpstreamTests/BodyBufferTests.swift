import Synchronization
import Testing

@testable import TollgateUpstream

@Suite struct BodyBufferTests {
    final class Recorder: Sendable {
        let resumes = Atomic<Int>(0)
        let cancels = Atomic<Int>(0)
    }

    func makeBuffer(maxChunks: Int = 4, maxBytes: Int = 1000) -> (BodyBuffer, Recorder) {
        let recorder = Recorder()
        let buffer = BodyBuffer(
            limits: .init(maxChunks: maxChunks, maxBytes: maxBytes),
            requestResume: { recorder.resumes.add(1, ordering: .relaxed) },
            consumerCancelled: { recorder.cancels.add(1, ordering: .relaxed) })
        return (buffer, recorder)
    }

    @Test func fullBufferPausesAndDrainingToHalfRequestsOneResume() async throws {
        let (buffer, recorder) = makeBuffer()
        for index in 0..<4 { #expect(buffer.offer([UInt8(index)]) == .accepted) }
        #expect(buffer.offer([9]) == .pause)
        #expect(buffer.isPaused)
        #expect(try await buffer.next().get() == [0])
        #expect(recorder.resumes.load(ordering: .relaxed) == 0)  // 3 left: above half
        #expect(try await buffer.next().get() == [1])
        #expect(recorder.resumes.load(ordering: .relaxed) == 1)  // 2 left: half
        #expect(try await buffer.next().get() == [2])
        #expect(recorder.resumes.load(ordering: .relaxed) == 1)  // already requested
        #expect(buffer.takeResumeRequest())
        #expect(!buffer.isPaused)
        #expect(!buffer.takeResumeRequest())
    }

    @Test func byteLimitPausesBeforeChunkLimit() {
        let (buffer, _) = makeBuffer(maxChunks: 100, maxBytes: 10)
        #expect(buffer.offer([UInt8](repeating: 1, count: 10)) == .accepted)
        #expect(buffer.offer([2]) == .pause)
        #expect(buffer.peakBufferedBytes == 10)
    }

    @Test func errorIsThrownAfterBufferedChunks() async throws {
        let (buffer, _) = makeBuffer()
        _ = buffer.offer([1])
        buffer.finish(.failure(.transferFailed("reset")))
        #expect(try await buffer.next().get() == [1])
        #expect(await buffer.next() == .failure(.transferFailed("reset")))
        #expect(await buffer.next() == .success(nil))
    }

    @Test func waitingConsumerReceivesChunkDirectly() async throws {
        let (buffer, _) = makeBuffer()
        async let next = buffer.next()
        try await Task.sleep(for: .milliseconds(50))
        #expect(buffer.offer([7]) == .accepted)
        #expect(try await next.get() == [7])
        #expect(buffer.bufferedBytes == 0)
    }

    @Test func cancelNotifiesOnceAndRefusesLaterData() async {
        let (buffer, recorder) = makeBuffer()
        _ = buffer.offer([1])
        buffer.cancel()
        buffer.cancel()
        #expect(recorder.cancels.load(ordering: .relaxed) == 1)
        #expect(buffer.offer([2]) == .consumerGone)
        #expect(await buffer.next() == .failure(.cancelled))
    }

    @Test func cancelAfterCompletionDoesNotAbortTheTransfer() {
        let (buffer, recorder) = makeBuffer()
        buffer.finish(.success(()))
        buffer.cancel()
        #expect(recorder.cancels.load(ordering: .relaxed) == 0)
    }

    @Test func cancellingTheWaitingTaskEndsWithCancelled() async {
        let (buffer, recorder) = makeBuffer()
        let task = Task { await buffer.next() }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        #expect(await task.value == .failure(.cancelled))
        #expect(recorder.cancels.load(ordering: .relaxed) == 1)
    }

    @Test func bufferedBodyYieldsItsBytesThenEnds() async throws {
        let body = UpstreamBody.buffered(Array("hello".utf8))
        #expect(try await body.collect(upTo: 100).text == "hello")
        #expect(try await UpstreamBody.buffered([]).collect(upTo: 100).isEmpty)
    }
}
