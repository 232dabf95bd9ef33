import ArgumentParser
import Foundation
import TollgateUpstream

/// `tollgate keys ...`: issue, list and revoke team keys through a running gateway's admin API.
///
/// The CLI holds no state of its own: it is a client of `/admin/keys`, so the same commands work
/// against the embedded store and against replicas sharing Redis.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Issue, list and revoke team API keys (a client of the admin API).",
        subcommands: [KeysCreateCommand.self, KeysListCommand.self, KeysRevokeCommand.self])
}

/// Where the admin API is and how to authenticate to it; shared by every `keys` subcommand.
struct AdminConnectionOptions: ParsableArguments {
    @Option(help: "Gateway base URL (env TOLLGATE_URL; default http://127.0.0.1:8080).") var url: String?
    @Option(name: .customLong("admin-token"), help: "Admin token (default: env TOLLGATE_ADMIN_TOKEN).") var adminToken: String?

    func client() throws -> AdminAPIClient {
        let env = ProcessInfo.processInfo.environment
        let base = url ?? env["TOLLGATE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw CLIFailure("--url must start with http:// or https:// (got `\(base)`).")
        }
        guard let token = adminToken ?? env["TOLLGATE_ADMIN_TOKEN"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CLIFailure("No admin token: pass --admin-token or set TOLLGATE_ADMIN_TOKEN.")
        }
        return AdminAPIClient(baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base, token: token)
    }
}

/// `tollgate keys create`: prints the secret once (it is never retrievable again), then the id.
struct KeysCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Issue a key for a team; prints the secret once.")

    @OptionGroup var connection: AdminConnectionOptions
    @Option(help: "Team the key belongs to (declared in the policy).") var team: String
    @Option(help: "A label for people (not secret).") var name: String?
    @Option(help: "Expiry: a duration from now (30d, 12h, 45m, 90s, 2w) or an RFC 3339 timestamp.") var expires: String?
    @Option(help: "Requests per minute for this key (only tighter than the team's).") var rpm: Int?
    @Option(help: "Tokens per minute for this key (only tighter than the team's).") var tpm: Int?
    @Option(help: "Comma-separated subset of the team's models this key may use.") var models: String?
    @Flag(help: "Print the admin API's JSON answer instead of text.") var json = false

    func run() async throws {
        try await CLIFailure.reporting {
            var body: [String: Any] = ["team": team]
            if let name { body["name"] = name }
            if let expires { body["expires_at"] = try ExpiryParser.rfc3339(expires, now: Date()) }
            if let rpm { body["rpm"] = rpm }
            if let tpm { body["tpm"] = tpm }
            if let models {
                body["models"] = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            let client = try connection.client()
            let reply = try await client.send("POST", "/admin/keys", json: body)
            if json {
                print(reply.text)
                return
            }
            guard let secret = reply.object["key"] as? String, let id = reply.object["id"] as? String else {
                throw CLIFailure("The gateway answered without a key; nothing was printed.")
            }
            print(secret)
            var details = "id: \(id)  team: \(reply.object["team"] as? String ?? team)"
            if let expiresAt = reply.object["expires_at"] as? String { details += "  expires: \(expiresAt)" }
            print(details)
            FileHandle.standardError.write(Data("The secret above is shown only once; store it now.\n".utf8))
        }
    }
}

/// `tollgate keys list`: a table of keys, never secrets.
struct KeysListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys (never their secrets).")

    @OptionGroup var connection: AdminConnectionOptions
    @Option(help: "Only this team's keys.") var team: String?
    @Flag(help: "Print the admin API's JSON answer instead of a table.") var json = false

    func run() async throws {
        try await CLIFailure.reporting {
            let client = try connection.client()
            var path = "/admin/keys"
            if let team {
                path += "?team=" + (team.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? team)
            }
            let reply = try await client.send("GET", path)
            if json {
                print(reply.text)
                return
            }
            let records = reply.object["data"] as? [[String: Any]] ?? []
            print(KeyTable.render(records, now: Date()))
        }
    }
}

/// `tollgate keys revoke ID`: takes effect on every replica within a second.
struct KeysRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by its id.")

    @OptionGroup var connection: AdminConnectionOptions
    @Argument(help: "The key's id (key_...), as shown by `keys list`.") var id: String

    func run() async throws {
        try await CLIFailure.reporting {
            let client = try connection.client()
            let encoded = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
            let reply = try await client.send("DELETE", "/admin/keys/" + encoded)
            print("revoked \(reply.object["id"] as? String ?? id) at \(reply.object["revoked_at"] as? String ?? "?")")
        }
    }
}

/// A failure the CLI explains in one line on stderr before exiting 1.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// Runs `body`; any error becomes `tollgate: message` on stderr and exit status 1.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIFailure {
            FileHandle.standardError.write(Data("tollgate: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// A minimal admin-API client over the project's libcurl client.
struct AdminAPIClient {
    struct Reply {
        let status: Int
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
    }

    let baseURL: String
    let token: String

    /// Sends one request; a non-2xx answer becomes a `CLIFailure` carrying the gateway's message.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil) async throws -> Reply {
        var headers = [("authorization", "Bearer \(token)"), ("accept", "application/json")]
        var body: [UInt8] = []
        if let json {
            body = Array(try JSONSerialization.data(withJSONObject: json))
            headers.append(("content-type", "application/json"))
        }
        let client = CurlClient()
        defer { client.shutdown() }
        let request = UpstreamRequest(
            method: method, url: baseURL + path, headers: headers, body: body,
            timeouts: UpstreamTimeouts(connect: .seconds(5), firstByte: .seconds(30), total: .seconds(60), idle: .seconds(30)))
        let reply: Reply
        do {
            let response = try await client.execute(request)
            reply = Reply(status: response.status, body: try await response.body.collect(upTo: 64 << 20))
        } catch {
            throw CLIFailure("Cannot reach the gateway at \(baseURL): \(error). Is `tollgate serve` running there (--url / TOLLGATE_URL)?")
        }
        guard (200..<300).contains(reply.status) else {
            let error = reply.object["error"] as? [String: Any]
            let message = error?["message"] as? String ?? String(reply.text.prefix(300))
            let code = (error?["code"] as? String).map { " (\($0))" } ?? ""
            var hint = ""
            if reply.status == 403 { hint = " Check --admin-token / TOLLGATE_ADMIN_TOKEN and that the gateway has an admin token set." }
            throw CLIFailure("The gateway refused: HTTP \(reply.status)\(code): \(message)\(hint)")
        }
        return reply
    }
}

/// Turns `--expires` into the RFC 3339 timestamp the admin API takes.
enum ExpiryParser {
    /// Accepts `<n>s|m|h|d|w` (from `now`) or an RFC 3339 timestamp; anything else is an error.
    static func rfc3339(_ text: String, now: Date) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let seconds = unitSeconds[unit], let count = Int(trimmed.dropLast()), count > 0,
            count <= 100 * 365 * 86_400 / seconds
        {
            return format(now.addingTimeInterval(TimeInterval(count * seconds)))
        }
        for options in [ISO8601DateFormatter.Options.withInternetDateTime, [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: trimmed) { return format(date) }
        }
        throw CLIFailure("--expires `\(text.prefix(80))` is neither a duration (30d, 12h, 45m, 90s, 2w) nor an RFC 3339 timestamp.")
    }

    private static let unitSeconds: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    private static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Renders key records as an aligned text table.
enum KeyTable {
    static func render(_ records: [[String: Any]], now: Date) -> String {
        let header = ["ID", "TEAM", "NAME", "CREATED", "EXPIRES", "STATUS", "RPM", "TPM", "MODELS"]
        let parser = ISO8601DateFormatter()
        var rows = [header]
        for record in records {
            let expires = record["expires_at"] as? String
            let status: String
            if record["revoked_at"] is String {
                status = "revoked"
            } else if let expires, let date = parser.date(from: expires), date <= now {
                status = "expired"
            } else {
                status = "active"
            }
            let name = (record["name"] as? String ?? "").prefix(40)
            rows.append([
                record["id"] as? String ?? "?", record["team"] as? String ?? "?", name.isEmpty ? "-" : String(name),
                record["created_at"] as? String ?? "-", expires ?? "never", status,
                (record["rpm"] as? Int).map(String.init) ?? "-", (record["tpm"] as? Int).map(String.init) ?? "-",
                (record["models"] as? [String])?.joined(separator: ",") ?? "-",
            ])
        }
        if records.isEmpty { return "(no keys)" }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension CharacterSet {
    /// Query-value characters: `urlQueryAllowed` minus the separators `&`, `=`, `+` and `#`.
    static let urlQueryValueAllowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
}
