import Foundation
import Glibc
import Synchronization

/// A deliberately small HTTP/1.1 server on 127.0.0.1 for exercising `CurlClient` against real
/// sockets: one thread accepts, one thread per connection serves keep-alive requests.
///
/// Routes (query parameters in brackets):
/// - `/echo`: 200 with the request body; echoes `x-test` as `x-echo-test`, reports whether an
///   `Expect` header arrived in `x-saw-expect`, and the method in `x-method`.
/// - `/json`: 200 `{"ok":true}`.
/// - `/continue`: a `100 Continue` and a `103 Early Hints` block before a `201`.
/// - `/stream` [chunks, gate]: chunked; before the last chunk waits until `openGate(gate)`.
/// - `/slow-stream` [chunks, delay-ms]: chunked, one chunk every `delay-ms`.
/// - `/delay-headers` [ms]: sleeps before answering.
/// - `/stall-body` [ms]: headers and one chunk, then silence for `ms`, then the end.
/// - `/reset`: promises 1 MB, sends 10 kB, then resets the connection (RST).
/// - `/big` [bytes]: `bytes` of body as fast as the socket takes them.
final class TestHTTPServer: Sendable {
    let port: Int
    private let listenFD: Int32
    private let openGates = Mutex<Set<String>>([])
    private let finalChunkSent = Mutex<Set<String>>([])
    private let acceptedCount = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.socket(errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw ServerError.socket(errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-http-accept"
        thread.start()
    }

    enum ServerError: Error { case socket(Int32) }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Connections accepted so far; shows whether the client reused connections.
    var acceptedConnections: Int { acceptedCount.load(ordering: .relaxed) }

    func openGate(_ name: String) { _ = openGates.withLock { $0.insert(name) } }
    func sentFinalChunk(_ gate: String) -> Bool { finalChunkSent.withLock { $0.contains(gate) } }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    deinit { stop() }

    // MARK: connection handling

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            acceptedCount.add(1, ordering: .relaxed)
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in
                serve(client)
                close(client)
            }
            thread.start()
        }
    }

    private struct Request {
        var method: String
        var path: String
        var query: [String: String]
        var headers: [String: String]
        var body: [UInt8]
    }

    private func serve(_ fd: Int32) {
        var pending: [UInt8] = []
        while let request = readRequest(fd, &pending) {
            let keepAlive = respond(to: request, fd: fd)
            if !keepAlive || request.headers["connection"]?.lowercased() == "close" { return }
        }
    }

    private func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> Request? {
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let range = pending.firstRange(of: terminator) {
                headEnd = range.upperBound
                break
            }
            guard pending.count < 64 * 1024, receive(fd, into: &pending) else { return nil }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: pending[..<headEnd], as: UTF8.self)
        pending.removeFirst(headEnd)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                query[String(kv[0])] = kv.count == 2 ? String(kv[1]) : ""
            }
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while pending.count < length {
            guard receive(fd, into: &pending) else { return nil }
        }
        let body = Array(pending[..<length])
        pending.removeFirst(length)
        return Request(
            method: String(requestLine[0]), path: String(parts[0]), query: query, headers: headers, body: body)
    }

    private func receive(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    @discardableResult
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    private func send(_ fd: Int32, _ text: String) -> Bool { send(fd, Array(text.utf8)) }

    private func sendChunk(_ fd: Int32, _ text: String) -> Bool {
        send(fd, String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n")
    }

    private func sleepMs(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

    /// Writes the response; returns whether the connection may serve another request.
    private func respond(to request: Request, fd: Int32) -> Bool {
        func int(_ name: String, _ fallback: Int) -> Int { request.query[name].flatMap { Int($0) } ?? fallback }
        let chunkedHead = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        switch request.path {
        case "/echo":
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(request.body.count)\r\n"
                + "X-Echo-Test: \(request.headers["x-test"] ?? "")\r\n"
                + "X-Saw-Expect: \(request.headers["expect"] == nil ? "no" : "yes")\r\n"
                + "X-Method: \(request.method)\r\n\r\n"
            return send(fd, Array(head.utf8) + request.body)
        case "/json":
            return send(fd, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}")
        case "/continue":
            return send(
                fd,
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                    + "HTTP/1.1 201 Created\r\nX-Final: yes\r\nContent-Length: 2\r\n\r\nok")
        case "/stream":
            let chunks = int("chunks", 3)
            let gate = request.query["gate"] ?? ""
            guard send(fd, chunkedHead) else { return false }
            for index in 0..<chunks {
                if index == chunks - 1 && !gate.isEmpty {
                    let deadline = Date().addingTimeInterval(10)
                    while !openGates.withLock({ $0.contains(gate) }) && Date() < deadline { sleepMs(5) }
                }
                guard sendChunk(fd, "data: chunk-\(index)\n\n") else { return false }
            }
            finalChunkSent.withLock { _ = $0.insert(gate) }
            return send(fd, "0\r\n\r\n")
        case "/slow-stream":
            guard send(fd, chunkedHead) else { return false }
            for index in 0..<int("chunks", 5) {
                if index > 0 { sleepMs(int("delay-ms", 100)) }
                guard sendChunk(fd, "data: slow-\(index)\n\n") else { return false }
            }
            return send(fd, "0\r\n\r\n")
        case "/delay-headers":
            sleepMs(int("ms", 1000))
            return send(fd, "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"ok\":true}")
        case "/stall-body":
            guard send(fd, chunkedHead), sendChunk(fd, "data: first\n\n") else { return false }
            sleepMs(int("ms", 1000))
            guard sendChunk(fd, "data: late\n\n") else { return false }
            return send(fd, "0\r\n\r\n")
        case "/reset":
            send(fd, "HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n")
            send(fd, [UInt8](repeating: UInt8(ascii: "x"), count: 10_000))
            sleepMs(50)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            return false
        case "/big":
            let total = int("bytes", 1 << 20)
            guard send(fd, "HTTP/1.1 200 OK\r\ncontent-length: \(total)\r\n\r\n") else { return false }
            let block = [UInt8](repeating: UInt8(ascii: "b"), count: 65536)
            var sent = 0
            while sent < total {
                let size = min(block.count, total - sent)
                guard send(fd, size == block.count ? block : Array(block[..<size])) else { return false }
                sent += size
            }
            return true
        default:
            return send(fd, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        }
    }
}
