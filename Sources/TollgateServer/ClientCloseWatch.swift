import NIOCore
import Synchronization

/// Tells a request that its client went away while the gateway waits on the provider, so the
/// upstream transfer is cancelled at once instead of at the next write (which screening's hold-back
/// or a slow provider can put seconds away) and the team is not billed for an answer nobody reads.
///
/// One close callback is registered per connection, the first time a request on it asks, and the
/// entry is dropped when the connection closes: keep-alive connections serving many requests do
/// not pile up callbacks. An HTTP/1 connection serves one request at a time, so each entry holds
/// at most one action.
final class ClientCloseWatch: Sendable {
    static let shared = ClientCloseWatch()

    private struct Entry {
        var action: (@Sendable () -> Void)?
        var generation: UInt64 = 0
    }

    /// What `watch` returns, to stop watching once the wait is over.
    struct Registration: Sendable {
        fileprivate let channel: ObjectIdentifier?
        fileprivate let generation: UInt64
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// Runs `action` if `channel` closes before `stop(_:)`; at once if it is already closed.
    func watch(_ channel: any Channel, action: @escaping @Sendable () -> Void) -> Registration {
        guard channel.isActive else {
            action()
            return Registration(channel: nil, generation: 0)
        }
        let id = ObjectIdentifier(channel)
        let (generation, isNew) = entries.withLock { entries -> (UInt64, Bool) in
            let isNew = entries[id] == nil
            var entry = entries[id] ?? Entry()
            entry.generation &+= 1
            entry.action = action
            entries[id] = entry
            return (entry.generation, isNew)
        }
        if isNew {
            channel.closeFuture.whenComplete { [self] _ in
                let action = entries.withLock { $0.removeValue(forKey: id)?.action }
                action?()
            }
        }
        return Registration(channel: id, generation: generation)
    }

    /// The client stopped sending: the pending wait (if any) is abandoned; the entry stays until the
    /// connection closes.
    func clientLeft(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let action = entries.withLock { entries -> (@Sendable () -> Void)? in
            defer { entries[id]?.action = nil }
            return entries[id]?.action
        }
        action?()
    }

    func stop(_ registration: Registration) {
        guard let id = registration.channel else { return }
        entries.withLock { entries in
            if entries[id]?.generation == registration.generation { entries[id]?.action = nil }
        }
    }

    /// Connections being watched (for tests: closing one must drop its entry).
    var count: Int { entries.withLock { $0.count } }
}

/// Reports a client that stopped sending (EOF on its side of the connection) to `ClientCloseWatch`.
///
/// The server allows half-closed connections, so a client that goes away with a FIN does not close
/// the channel while a response is pending; its input closing is the only early sign. The watched
/// request is then treated as abandoned (OpenAI clients never half-close and wait for an answer).
final class ClientInputClosedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            ClientCloseWatch.shared.clientLeft(context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
