import CPCRE2

/// Why a pattern could not be used; `offset` is the byte offset in the pattern PCRE2 points at.
public struct PatternError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int

    public var description: String { "\(message) at pattern offset \(offset)" }
}

/// The outcome of one search, so a caller can tell "no match" from "gave up on hostile input".
enum SearchOutcome: Equatable {
    case match(start: Int, end: Int)
    case noMatch
    /// The match or depth limit was hit; the input is treated as not matching rather than hanging.
    case limitExceeded
}

/// A PCRE2 pattern compiled once (UTF + UCP, JIT when available) and shared read-only across threads.
///
/// PCRE2 documents compiled code as immutable after `pcre2_jit_compile`, so concurrent matching with
/// per-caller match data (see `MatchScratch`) is safe. The class owns the C pointer and frees it once;
/// that is why it is `@unchecked Sendable`.
final class CompiledPattern: @unchecked Sendable {
    private let code: OpaquePointer
    let isJIT: Bool
    let captureCount: Int

    /// `anchored` compiles a variant that only matches at the start offset (JIT supports anchoring only
    /// at compile time).
    init(_ pattern: String, caseless: Bool = true, anchored: Bool = false) throws(PatternError) {
        var options = PCRE2_UTF | PCRE2_UCP
        if caseless { options |= PCRE2_CASELESS }
        if anchored { options |= PCRE2_ANCHORED }
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let bytes = Array(pattern.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw PatternError(message: Self.message(for: errorCode), offset: errorOffset)
        }
        code = compiled
        isJIT = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE) == 0
        var count: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        captureCount = Int(count)
    }

    deinit { pcre2_code_free_8(code) }

    /// Finds the first match at or after `start` (a character boundary) in valid UTF-8 `subject`.
    func search(_ subject: UnsafeBufferPointer<UInt8>, from start: Int, scratch: MatchScratch) -> SearchOutcome {
        guard start <= subject.count else { return .noMatch }
        let rc: Int32
        if let base = subject.baseAddress, isJIT {
            // The JIT fast path skips pcre2_match's argument checks; subjects are always valid UTF-8 here.
            rc = pcre2_jit_match_8(
                code, base, subject.count, start, PCRE2_NO_UTF_CHECK, scratch.matchData, scratch.matchContext)
        } else if let base = subject.baseAddress {
            rc = pcre2_match_8(
                code, base, subject.count, start, PCRE2_NO_UTF_CHECK, scratch.matchData, scratch.matchContext)
        } else {
            // An empty buffer has no base address; PCRE2 still wants a valid pointer for length 0.
            var zero: UInt8 = 0
            rc = pcre2_match_8(code, &zero, 0, 0, PCRE2_NO_UTF_CHECK, scratch.matchData, scratch.matchContext)
        }
        if rc == PCRE2_ERROR_NOMATCH { return .noMatch }
        if rc < 0 { return .limitExceeded }
        guard let ovector = pcre2_get_ovector_pointer_8(scratch.matchData) else { return .noMatch }
        return .match(start: ovector[0], end: ovector[1])
    }

    /// Byte range of capture group `group` after a successful `search` with the same scratch.
    func captureRange(_ group: Int, scratch: MatchScratch) -> Range<Int>? {
        guard group <= captureCount, group < scratch.ovectorPairs,
            let ovector = pcre2_get_ovector_pointer_8(scratch.matchData)
        else { return nil }
        let lower = ovector[2 * group]
        let upper = ovector[2 * group + 1]
        // PCRE2_UNSET is ~(size_t)0, which Swift sees as -1.
        guard lower >= 0, upper >= lower else { return nil }
        return lower..<upper
    }

    private static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer {
            pcre2_get_error_message_8(errorCode, $0.baseAddress, $0.count)
        }
        guard length > 0 else { return "PCRE2 error \(errorCode)" }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }
}
