import Foundation
import Testing
import TollgateCore
import TollgateStore

struct KeyMaterialTests {
    @Test func generatedSecretsHaveTheIssuedShapeAndDiffer() throws {
        let secrets = try (0..<200).map { _ in try APIKeySecret.generate().plaintext }
        #expect(secrets.allSatisfy(APIKeyFormat.isWellFormedSecret))
        #expect(Set(secrets).count == secrets.count)
        #expect(secrets.allSatisfy { $0.count == 6 + 40 })
    }

    @Test func generatedSecretsUseTheWholeAlphabetRoughlyEvenly() throws {
        var counts: [Character: Int] = [:]
        for _ in 0..<500 {
            for character in try APIKeySecret.generate().plaintext.dropFirst(6) { counts[character, default: 0] += 1 }
        }
        // 20,000 characters over 62 symbols: ~322 each; a biased or broken mapping falls far outside.
        #expect(counts.count == 62)
        #expect(counts.values.allSatisfy { (200...450).contains($0) })
    }

    @Test func keyIDsAreShortPublicIdentifiers() throws {
        let id = try APIKeyID.generate()
        #expect(APIKeyFormat.isWellFormedID(id))
        #expect(id.hasPrefix("key_") && id.count == 16)
    }

    @Test func secretNeverPrintsItself() throws {
        let secret = try APIKeySecret.generate()
        #expect(!"\(secret)".contains(secret.plaintext))
        #expect(APIKeySecret(presented: secret.plaintext)?.hash == secret.hash)
        #expect(APIKeySecret(presented: "sk-tg-short") == nil)
    }

    @Test func sha256MatchesTheStandardVector() {
        #expect(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hmacMatchesRFC4231() {
        let mac = hmacSHA256(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        #expect(KeyCrypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func constantTimeEqualsComparesContentAndLength() {
        #expect(constantTimeEquals("admin-token", "admin-token"))
        #expect(!constantTimeEquals("admin-token", "admin-tokeN"))
        #expect(!constantTimeEquals("admin-token", "admin-token-longer"))
        #expect(constantTimeEquals("", ""))
    }

    @Test func recordUsabilityFollowsRevocationAndExpiry() {
        let now = Date()
        var record = APIKeyRecord(id: "key_a", team: "t", name: "n", hash: "h", createdAt: now, expiresAt: now.addingTimeInterval(10))
        #expect(record.isUsable(at: now))
        #expect(!record.isUsable(at: now.addingTimeInterval(10)))
        record.revokedAt = now
        #expect(!record.isUsable(at: now))
    }
}
