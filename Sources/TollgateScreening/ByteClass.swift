/// A set of ASCII bytes written like a regex class body (`a-z0-9._%+-`), for the PII gates `near_run`
/// and `lead`.
struct ByteClass: Sendable {
    private let members: [Bool]

    /// Nil when `text` is empty or holds a non-ASCII character. A `-` first or last is itself a member.
    init?(_ text: String, caseless: Bool) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var members = [Bool](repeating: false, count: 256)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                guard bytes[index] <= bytes[index + 2] else { return nil }
                for member in bytes[index]...bytes[index + 2] { members[Int(member)] = true }
                index += 3
            } else {
                members[Int(bytes[index])] = true
                index += 1
            }
        }
        if caseless {
            for letter in UInt8(ascii: "a")...UInt8(ascii: "z") where members[Int(letter)] || members[Int(letter & ~0x20)] {
                members[Int(letter)] = true
                members[Int(letter & ~0x20)] = true
            }
        }
        self.members = members
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool { members[Int(byte)] }
}
