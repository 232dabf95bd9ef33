/// A provider response body, streamed chunk by chunk as curl receives it.
///
/// Single consumer: iterate it once (or call `collect`). Iterating pulls from a small bounded
/// buffer; when the consumer is slower than the provider the transfer is paused instead of
/// buffering, so a slow client never makes the gateway hold a whole response in memory.
/// Stopping early — dropping the iterator or every copy of the body, cancelling the consuming
/// task, or calling `cancel()` — aborts the transfer and frees its connection slot promptly.
/// A failure mid-body (reset, truncation, idle timeout) is thrown from the iterator; the body
/// never ends silently short.
public struct UpstreamBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = UpstreamError

    private let owner: Owner

    init(buffer: BodyBuffer) {
        owner = Owner(buffer: buffer)
    }

    /// A body that is already complete, for responses that did not come from curl (cache hits,
    /// test doubles).
    public static func buffered(_ bytes: [UInt8]) -> UpstreamBody {
        let buffer = BodyBuffer(limits: .standard, requestResume: {}, consumerCancelled: {})
        if !bytes.isEmpty { _ = buffer.offer(bytes) }
        buffer.finish(.success(()))
        return UpstreamBody(buffer: buffer)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: owner, owner: IteratorOwner(buffer: owner.buffer))
    }

    /// Reads the whole body, failing with `.transferFailed` (and aborting the transfer) once it
    /// exceeds `maxBytes`, so non-streaming responses are still bounded.
    public func collect(upTo maxBytes: Int) async throws(UpstreamError) -> [UInt8] {
        var result: [UInt8] = []
        var iterator = makeAsyncIterator()
        while let chunk = try await iterator.next() {
            if chunk.count > maxBytes - result.count {
                cancel()
                throw .transferFailed("response body exceeds \(maxBytes) bytes")
            }
            result.append(contentsOf: chunk)
        }
        return result
    }

    /// Stops the body: buffered data is dropped and the transfer aborted. Idempotent; a no-op
    /// once the body has been read to the end.
    public func cancel() {
        owner.buffer.cancel()
    }

    /// Largest number of bytes buffered at once so far (for tests and metrics).
    var peakBufferedBytes: Int { owner.buffer.peakBufferedBytes }

    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Keeps the body alive while iterating (`execute(...).body.makeAsyncIterator()` must work).
        private let body: Owner
        private let owner: IteratorOwner

        fileprivate init(body: Owner, owner: IteratorOwner) {
            self.body = body
            self.owner = owner
        }

        public mutating func next() async throws(UpstreamError) -> [UInt8]? {
            try await owner.buffer.next().get()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(UpstreamError) -> [UInt8]? {
            try await owner.buffer.next().get()
        }
    }

    /// Cancels the transfer when the last copy of the body is released unread.
    fileprivate final class Owner: Sendable {
        let buffer: BodyBuffer
        init(buffer: BodyBuffer) { self.buffer = buffer }
        deinit { buffer.cancel() }
    }

    /// Cancels the transfer when the iterator is dropped before the end.
    fileprivate final class IteratorOwner: Sendable {
        let buffer: BodyBuffer
        init(buffer: BodyBuffer) { self.buffer = buffer }
        deinit { buffer.cancel() }
    }
}
