/// A parsed `redis://[[user]:password@]host[:port][/db]` or `unix://[[user]:password@]/path[?db=N]` URL.
///
/// The Unix-socket form is for a Redis on the same host: it skips the loopback TCP stack on both
/// sides (redis-benchmark PING p50 55 µs against 71–79 µs over 127.0.0.1 on the reference VM;
/// through the whole gateway the difference was within that VM's noise, docs/limits.md).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// Set for `unix://` URLs; `host` and `port` are then unused.
    public var socketPath: String?

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init(socketPath: String, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.init(host: "localhost", username: username, password: password, database: database)
        self.socketPath = socketPath
    }

    /// Where the server is, for messages: `host:port` or the socket path.
    public var endpoint: String { socketPath.map { "unix:\($0)" } ?? "\(host):\(port)" }

    /// Parses the URL; throws `.invalidArgument` naming what is wrong (never echoing the password).
    public init(parsing text: String) throws {
        if text.hasPrefix("unix://") {
            try self.init(parsingSocket: text.dropFirst("unix://".count))
            return
        }
        guard text.hasPrefix("redis://") else {
            throw StoreError.invalidArgument("Redis URL must start with redis:// (or unix:// for a socket)")
        }
        var rest = Substring(text.dropFirst("redis://".count))
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0, db < 1_000_000 else {
                    throw StoreError.invalidArgument("Redis URL database must be a non-negative integer")
                }
                database = db
            }
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            (username, password) = Self.credentials(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        var host = String(rest)
        var port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw StoreError.invalidArgument("Redis URL has an unterminated IPv6 address")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { throw StoreError.invalidArgument("Redis URL port is not a number") }
                port = parsed
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let parsed = Int(rest[rest.index(after: colon)...]) else {
                throw StoreError.invalidArgument("Redis URL port is not a number")
            }
            port = parsed
        }
        guard !host.isEmpty else { throw StoreError.invalidArgument("Redis URL has no host") }
        guard (1...65535).contains(port) else { throw StoreError.invalidArgument("Redis URL port must be 1-65535") }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// `[[user]:password@]/path[?db=N]`, what follows `unix://`.
    private init(parsingSocket rest: Substring) throws {
        guard let slash = rest.firstIndex(of: "/") else {
            throw StoreError.invalidArgument("Redis socket URL needs an absolute path: unix:///path/to/redis.sock")
        }
        var username: String?
        var password: String?
        let beforePath = rest[..<slash]
        if !beforePath.isEmpty {
            guard beforePath.last == "@" else {
                throw StoreError.invalidArgument("Redis socket URL: only credentials (user:password@) may come before the path")
            }
            (username, password) = Self.credentials(beforePath.dropLast())
        }
        var path = rest[slash...]
        var database = 0
        if let question = path.firstIndex(of: "?") {
            for item in path[path.index(after: question)...].split(separator: "&") {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0] == "db", let db = Int(parts[1]), db >= 0, db < 1_000_000 else {
                    throw StoreError.invalidArgument("Redis socket URL accepts only ?db=N (a non-negative integer)")
                }
                database = db
            }
            path = path[..<question]
        }
        guard path.count > 1 else { throw StoreError.invalidArgument("Redis socket URL has no path") }
        self.init(socketPath: Self.percentDecoded(path), username: username, password: password, database: database)
    }

    /// Safe to log: the password is masked.
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        if let socketPath { return "unix://\(auth)\(socketPath)?db=\(database)" }
        return "redis://\(auth)\(host):\(port)/\(database)"
    }

    /// `[user]:password` or `password`, percent-decoded; an empty user is none.
    private static func credentials(_ text: Substring) -> (username: String?, password: String?) {
        guard let colon = text.firstIndex(of: ":") else { return (nil, text.isEmpty ? nil : percentDecoded(text)) }
        let user = text[..<colon]
        return (user.isEmpty ? nil : percentDecoded(user), percentDecoded(text[text.index(after: colon)...]))
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
