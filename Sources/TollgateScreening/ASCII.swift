/// Fast checks on UTF-8 text used to pick the cheap paths of the normalizers.
enum ASCII {
    /// True when every byte is below 0x80, checked eight bytes at a time.
    static func isASCII(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { isASCII($0) }
    }

    /// True when every byte is below 0x80, checked eight bytes at a time.
    static func isASCII(_ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = buffer.count
        var accumulated: UInt64 = 0
        if let base = UnsafeRawPointer(buffer.baseAddress) {
            while index + 8 <= count {
                accumulated |= base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
        }
        while index < count {
            accumulated |= UInt64(buffer[index])
            index += 1
        }
        return accumulated & 0x8080_8080_8080_8080 == 0
    }
}
