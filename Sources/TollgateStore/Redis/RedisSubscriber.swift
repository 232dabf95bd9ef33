import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Listens on the key-invalidation channel on its own connection and thread.
///
/// Messages carry a revoked key's hash (or `*` for "everything"). After any reconnect it reports
/// `.all`, because revocations published while it was disconnected were missed.
///
/// `@unchecked Sendable` is safe because `connection` is only used by the subscriber thread; the
/// socket number other threads need for `shutdown(2)` is published through a `Mutex`.
final class RedisSubscriber: @unchecked Sendable {
    private let url: RedisURL
    private let channel: String
    private let options: RedisConnectionOptions
    private let deliver: @Sendable (KeyInvalidation) -> Void
    private let control = Mutex<(stopped: Bool, fd: Int32)>((false, -1))
    private let sleeper = DispatchSemaphore(value: 0)
    private let subscribed = Atomic<Bool>(false)

    init(
        url: RedisURL, channel: String, options: RedisConnectionOptions,
        deliver: @escaping @Sendable (KeyInvalidation) -> Void
    ) {
        self.url = url
        self.channel = channel
        self.options = options
        self.deliver = deliver
        let thread = Thread { [self] in self.run() }
        thread.name = "tollgate-redis-subscriber"
        thread.start()
    }

    /// Whether the subscription is currently live (for readiness).
    var isSubscribed: Bool { subscribed.load(ordering: .relaxed) }

    func stop() {
        control.withLock { state in
            state.stopped = true
            if state.fd >= 0 { _ = shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
        sleeper.signal()
    }

    private func run() {
        var backoff = options.initialBackoff
        var everConnected = false
        while !control.withLock({ $0.stopped }) {
            // Held here so a failed SUBSCRIBE closes it under the lock below, never by going out of
            // scope after `stop()` could still see its descriptor.
            var current: RedisConnection?
            do {
                let connection = try RedisConnection(url: url, connectTimeout: options.connectTimeout, commandTimeout: nil)
                current = connection
                let live = control.withLock { state -> Bool in
                    if state.stopped { return false }
                    state.fd = connection.fileDescriptor
                    return true
                }
                guard live else {
                    connection.close()
                    break
                }
                _ = try connection.roundTrip(RedisCommand(["SUBSCRIBE", channel])).checked()
                subscribed.store(true, ordering: .relaxed)
                backoff = options.initialBackoff
                if everConnected { deliver(.all) }
                everConnected = true
                listen(on: connection)
            } catch {
                // Fall through to the backoff below.
            }
            subscribed.store(false, ordering: .relaxed)
            control.withLock { state in
                state.fd = -1
                current?.close()
            }
            current = nil
            _ = sleeper.wait(timeout: .now() + .nanoseconds(Int(backoff.components.attoseconds / 1_000_000_000) + Int(backoff.components.seconds) * 1_000_000_000))
            backoff = min(backoff * 2, options.maxBackoff)
        }
    }

    /// Blocks on replies until the connection breaks or is shut down; closes it before returning,
    /// under the lock, so `stop()` never shuts down a reused descriptor.
    private func listen(on connection: RedisConnection) {
        while true {
            guard let message = try? connection.readReply(), let parts = message.elements else { break }
            guard parts.count == 3, parts[0].text == "message", let payload = parts[2].text else { continue }
            deliver(payload == "*" ? .all : .key(hash: payload))
        }
        control.withLock { state in
            state.fd = -1
            connection.close()
        }
    }
}
