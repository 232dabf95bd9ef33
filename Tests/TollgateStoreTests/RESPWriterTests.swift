import Foundation
import Testing
@testable import TollgateStore

/// The wire encoding the Redis store writes itself (it no longer goes through hiredis' formatter).
struct RESPWriterTests {
    @Test func encodesStringsAndIntegersAsBulkStrings() {
        var writer = RESPWriter()
        writer.append("EVALSHA")
        writer.append("")
        writer.append(0)
        writer.append(-42)
        writer.append(Int.min)
        writer.append(Int.max)
        let expected = "*6\r\n$7\r\nEVALSHA\r\n$0\r\n\r\n$1\r\n0\r\n$3\r\n-42\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"
        #expect(writer.command() == Array(expected.utf8))
    }

    @Test func packsNumbersAsLittleEndianDoubles() {
        var writer = RESPWriter()
        writer.append(packed: [-1, 1_795_662_599_266_844])
        let bytes = writer.command()
        #expect(Array(bytes.prefix(9)) == Array("*1\r\n$16\r\n".utf8))
        let payload = Array(bytes[9..<25])
        let first = payload[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let second = payload[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        #expect(Double(bitPattern: first) == -1)
        #expect(Double(bitPattern: second) == 1_795_662_599_266_844)
        #expect(Array(bytes.suffix(2)) == [13, 10])
    }

    @Test func scriptCommandsCarryTheirEvalFallback() {
        let script = RedisScript("return 1")
        let command = script.command(keys: ["k"], arguments: ["a"])
        #expect(command.encoded == Array("*5\r\n$7\r\nEVALSHA\r\n$40\r\n\(script.sha1)\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\na\r\n".utf8))
        #expect(command.noScriptFallback == Array("*5\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n1\r\n$1\r\nk\r\n$1\r\na\r\n".utf8))
        #expect(RedisCommand(["PING"]).noScriptFallback == nil)
    }

    @Test func keyNamesEscapeOnlyWhatCouldBreakTheHashTag() {
        let keys = RedisKeys(prefix: "tollgate")
        #expect(keys.rateLimits(team: "research") == "tollgate:{research}:gcra")
        #expect(keys.rateLimits(team: "a}b {c") == "tollgate:{a%7Db%20%7Bc}:gcra")
        #expect(keys.rateLimitField(rule: "key:key_ab12:tpm") == "key:key_ab12:tpm")
        #expect(keys.rateLimitField(rule: "~exp") == "%7Eexp")
    }
}
