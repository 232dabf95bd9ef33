/// JSON written the same way for the same meaning: object members sorted by key (recursively), so
/// two clients serialising one request differently still meet the same cache entry.
public enum CanonicalJSON {
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.0, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.1, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .number(let text):
            // 0, 0.0 and 0e0 are one number: integral values as integers, others in Swift's shortest form.
            if let number = Double(text), number.isFinite {
                let integral = number == number.rounded() && abs(number) < 1e15
                out.append(contentsOf: (integral ? String(Int64(number)) : String(number)).utf8)
            } else {
                out.append(contentsOf: text.utf8)
            }
        default:
            JSONWriter.write(value, into: &out)
        }
    }
}
