/// The entity kinds the PII screen knows; the raw values are the names used in policy files,
/// placeholders (`[EMAIL_1]`) and `tollgate screen` output.
public enum PIIType: String, Sendable, CaseIterable, Codable, Hashable {
    case EMAIL, PHONE, CREDIT_CARD, US_SSN, IBAN, IP_ADDRESS, SECRET

    /// Every kind, built once: the default of `findPII`, which runs per message.
    public static let every: Set<PIIType> = Set(allCases)

    /// When two candidate spans overlap, the more specific kind wins (a key that contains digits
    /// is a SECRET, not a PHONE).
    var precedence: Int {
        switch self {
        case .SECRET: 0
        case .EMAIL: 1
        case .IBAN: 2
        case .CREDIT_CARD: 3
        case .US_SSN: 4
        case .IP_ADDRESS: 5
        case .PHONE: 6
        }
    }
}
