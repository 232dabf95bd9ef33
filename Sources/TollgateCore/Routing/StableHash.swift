/// A 64-bit hash that is the same in every process, on every machine, forever.
///
/// Swift's `Hasher` is seeded per process, so it cannot decide which canary variant a client belongs to:
/// the client would flip on every restart and differ between replicas. This is FNV-1a over the UTF-8
/// bytes followed by MurmurHash3's 64-bit finalizer, which spreads FNV's weak low bits so that ids like
/// `key-1`, `key-2` land far apart.
public enum StableHash {
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return finalize(hash)
    }

    /// MurmurHash3 fmix64.
    static func finalize(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    /// Maps a hash uniformly onto `0..<bound` with a multiply-high instead of a biased modulo.
    static func reduce(_ hash: UInt64, into bound: Int) -> Int {
        Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(max(1, bound))).high)
    }
}
