import CCurl

/// One request's state on the curl thread: the easy handle's configuration, the callbacks that
/// parse headers and feed the body buffer, and the clocks the loop checks for timeouts.
///
/// `@unchecked Sendable` is safe because the mutable fields (easy handle, header list, error
/// buffer, parser, clocks) are only touched by the owning `CurlWorker`'s thread, including from
/// curl callbacks, which curl runs on that same thread. What other threads use is `Sendable` on
/// its own: `handoff`, `body`, `signals`.
final class CurlTransfer: @unchecked Sendable {
    let request: UpstreamRequest
    let signals: TransferSignals
    let handoff = ResponseHandoff()
    let body: BodyBuffer

    // Curl-thread-only state.
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headParser = ResponseHeadParser()
    private(set) var headComplete = false
    private(set) var startedAt = ContinuousClock.now
    private(set) var lastActivity = ContinuousClock.now
    /// Why a callback aborted the transfer, which curl only reports as a write error.
    private(set) var abortReason: UpstreamError?
    /// A response head held back until the body completes (`deliverWhenComplete`).
    private var pendingHead: UpstreamResponse?

    init(id: Int, request: UpstreamRequest, limits: BodyBuffer.Limits, enqueue: @escaping @Sendable (Int) -> Void) {
        self.request = request
        let signals = TransferSignals(id: id, enqueue: enqueue)
        self.signals = signals
        self.body = BodyBuffer(
            limits: limits, requestResume: { signals.poke() }, consumerCancelled: { signals.requestCancel() })
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    var id: Int { signals.id }

    // MARK: setup

    /// Configures `handle` for this request; on failure the handle is left for the caller to reset.
    func attach(to handle: UnsafeMutableRawPointer, connectTimeoutMs: Int) -> UpstreamError? {
        easy = handle
        startedAt = .now
        lastActivity = startedAt
        let opaqueSelf = Unmanaged.passUnretained(self).toOpaque()
        var failed: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if code != CURLE_OK && failed == CURLE_OK { failed = code } }

        set(ccurl_easy_setopt_string(handle, CURLOPT_URL, request.url))
        set(ccurl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1))
        set(ccurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        // HTTP/2 when TLS+ALPN offer it, HTTP/1.1 for cleartext http:// URLs.
        set(ccurl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS))
        // Prefer multiplexing on an existing HTTP/2 connection over opening a new one, but only
        // where HTTP/2 is possible: on cleartext HTTP/1.1 curl would hold every concurrent
        // transfer to a host until the first one had completely finished (measured: three of four
        // concurrent first streams waited out the whole first stream, ~265 ms).
        if request.url.utf8.starts(with: "https:".utf8) || request.url.utf8.starts(with: "HTTPS:".utf8) {
            set(ccurl_easy_setopt_long(handle, CURLOPT_PIPEWAIT, 1))
        }
        // Behind an HTTPS proxy, the CONNECT response must not be mistaken for the provider's.
        set(ccurl_easy_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        set(ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, connectTimeoutMs)))
        if let caFile = request.caFile {
            set(ccurl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile))
        }
        set(ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))
        set(ccurl_easy_setopt_write_callback(handle) { data, size, count, user in
            guard let user else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            return transfer.didReceiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        set(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaqueSelf))
        set(ccurl_easy_setopt_header_callback(handle) { data, size, count, user in
            guard let user else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            return transfer.didReceiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        set(ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaqueSelf))

        switch request.method {
        case "GET":
            set(ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            set(ccurl_easy_setopt_long(handle, CURLOPT_NOBODY, 1))
        default:
            set(ccurl_easy_setopt_long(handle, CURLOPT_POST, 1))
            set(ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            // COPYPOSTFIELDS copies, so the request value need not outlive this call.
            request.body.withUnsafeBytes { raw in
                if let base = raw.baseAddress {
                    set(ccurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base)))
                } else {
                    set(ccurl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
                }
            }
            if request.method != "POST" {
                set(ccurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            // "Name;" is curl's way to send a header with an empty value ("Name:" would delete it).
            let line = value.isEmpty ? "\(name);" : "\(name): \(value)"
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                return .transferFailed("out of memory building request headers")
            }
            list = appended
        }
        // curl would otherwise send "Expect: 100-continue" for larger POSTs and wait a round trip.
        if let appended = curl_slist_append(list, "Expect:") { list = appended }
        headerList = list
        set(ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))

        if failed != CURLE_OK { return CurlErrorMapping.error(for: failed, message: "", connected: false) }
        return nil
    }

    /// Detaches from the easy handle so it can be reset and reused.
    func detach() {
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    // MARK: callbacks (curl thread)

    private func didReceiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        switch headParser.consume(line: line) {
        case .needMore:
            return line.count
        case .tooLarge:
            abortReason = .transferFailed("response headers exceed \(headParser.maxHeadBytes) bytes")
            return 0
        case .complete(let head):
            deliverHead(status: head.status, headers: head.headers)
            return line.count
        }
    }

    private func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headComplete { deliverHeadFromInfo() }
        lastActivity = .now
        switch body.offer(Array(bytes)) {
        case .accepted:
            return bytes.count
        case .pause:
            // The buffer is full: the consumer must start reading now or nothing moves.
            releasePendingHead()
            return Int(CURL_WRITEFUNC_PAUSE)
        case .consumerGone:
            abortReason = .cancelled
            return 0
        }
    }

    private func deliverHead(status: Int, headers: [(String, String)]) {
        headComplete = true
        lastActivity = .now
        let response = UpstreamResponse(status: status, headers: headers, body: UpstreamBody(buffer: body))
        if request.deliverWhenComplete {
            pendingHead = response
        } else {
            handoff.deliver(.success(response))
        }
    }

    /// Delivers a held-back head (after the body finished, or when the buffer filled up).
    func releasePendingHead() {
        guard let response = pendingHead else { return }
        pendingHead = nil
        handoff.deliver(.success(response))
    }

    /// For responses whose head never completed through the header callback (HTTP/0.9, HEAD).
    func deliverHeadFromInfo() {
        guard !headComplete, let easy else { return }
        var code = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        deliverHead(status: code, headers: [])
    }

    /// Called by the worker after unpausing, so time spent paused does not count as idle.
    func markActivity() {
        lastActivity = .now
    }

    /// The message curl wrote into the error buffer for the last failure.
    var curlErrorMessage: String {
        String(cString: errorBuffer)
    }

    // MARK: timeouts

    /// The earliest moment a timeout could fire, and which phase it belongs to.
    func nextDeadline(bodyPaused: Bool) -> (ContinuousClock.Instant, TimeoutPhase) {
        let timeouts = request.timeouts
        var best: (ContinuousClock.Instant, TimeoutPhase) = (startedAt + timeouts.total, .total)
        if !headComplete {
            let firstByte = startedAt + timeouts.firstByte
            if firstByte < best.0 { best = (firstByte, .firstByte) }
        } else if !bodyPaused {
            let idle = lastActivity + timeouts.idle
            if idle < best.0 { best = (idle, .idle) }
        }
        return best
    }

    /// A lower bound for any deadline this transfer can have from `now` on, for scheduling the
    /// loop's deadline scan: once the head arrives the idle clock starts, at `now` at the earliest.
    func earliestPossibleDeadline(now: ContinuousClock.Instant, bodyPaused: Bool) -> ContinuousClock.Instant {
        let (deadline, _) = nextDeadline(bodyPaused: bodyPaused)
        return headComplete ? deadline : min(deadline, now + request.timeouts.idle)
    }
}
