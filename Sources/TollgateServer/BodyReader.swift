import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore

/// Reads a request body with the policy's size limit, refusing early on a declared length and
/// with the same 413 when a chunked body grows past it, and refusing compressed bodies (415).
enum BodyReader {
    static func read(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let encoding = request.headers[.contentEncoding], !Self.isIdentity(encoding) {
            throw GatewayError.unsupportedContentEncoding(encoding)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw GatewayError.bodyTooLarge(limit: limit)
        }
        var request = request
        do {
            var buffer = try await request.collectBody(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw GatewayError.bodyTooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            // A chunked body (no Content-Length) passes the early check and overflows while being
            // collected; NIO reports that with its own error, which is the same 413 for the client.
            throw GatewayError.bodyTooLarge(limit: limit)
        }
    }

    private static func isIdentity(_ encoding: String) -> Bool {
        let trimmed = encoding.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).joined()
        return trimmed.isEmpty || trimmed == "identity"
    }
}
