import Testing
import TollgateStore

struct RedisURLTests {
    @Test func parsesPasswordHostPortAndDatabase() throws {
        let url = try RedisURL(parsing: "redis://:s3cr%40t@cache.internal:6380/2")
        #expect(url.host == "cache.internal" && url.port == 6380 && url.database == 2)
        #expect(url.password == "s3cr@t" && url.username == nil)
        #expect(!url.description.contains("s3cr"))
    }

    @Test func defaultsPortAndDatabase() throws {
        let url = try RedisURL(parsing: "redis://127.0.0.1")
        #expect(url.port == 6379 && url.database == 0 && url.password == nil)
    }

    @Test func parsesACLUserAndIPv6() throws {
        let url = try RedisURL(parsing: "redis://app:pw@[::1]:7000")
        #expect(url.username == "app" && url.password == "pw" && url.host == "::1" && url.port == 7000)
    }

    @Test func parsesASocketPathWithCredentialsAndDatabase() throws {
        let url = try RedisURL(parsing: "unix://app:s3cr%40t@/run/redis/redis.sock?db=4")
        #expect(url.socketPath == "/run/redis/redis.sock" && url.database == 4)
        #expect(url.username == "app" && url.password == "s3cr@t")
        #expect(url.endpoint == "unix:/run/redis/redis.sock")
        #expect(!url.description.contains("s3cr") && url.description.hasPrefix("unix://"))
        let bare = try RedisURL(parsing: "unix:///tmp/redis.sock")
        #expect(bare.socketPath == "/tmp/redis.sock" && bare.database == 0 && bare.password == nil)
    }

    @Test(arguments: [
        "http://x", "redis://", "redis://host:notaport", "redis://host:70000", "redis://host/x", "redis://[::1",
        "unix://", "unix://relative.sock", "unix:///", "unix://pw/path.sock", "unix:///tmp/r.sock?db=x", "unix:///tmp/r.sock?timeout=3",
    ])
    func rejectsMalformedURLs(_ text: String) {
        #expect(throws: StoreError.self) { try RedisURL(parsing: text) }
    }
}
