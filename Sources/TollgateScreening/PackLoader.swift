import TollgateCore
import Foundation
import Yams

/// Reads rule packs (`policies/packs/*.yaml`) into compiled rules, collecting every problem with its
/// file and line instead of stopping at the first.
///
/// Pack format (both kinds): a mapping with `version: 1` and `rules:`, a list of mappings with
/// `id`, `pattern` and `description`; injection rules add `category`, `weight` and optional `view`
/// (`text` | `compact`), `keywords`, `anchored` and `obfuscated_only`; PII rules add `type`, optional `validator`, `group`, `caseless`, `min_digits` and `near`.
struct PackLoader {
    private(set) var errors: [PolicyIssue] = []

    mutating func loadInjection(path: String) -> [InjectionRule] {
        guard let rules = ruleNodes(path: path) else { return [] }
        var result: [InjectionRule] = []
        var seen = Set<String>()
        for node in rules {
            var fields = Fields(node: node, file: path)
            let id = fields.identifier(seen: &seen)
            let category = fields.string("category") ?? "uncategorized"
            let weight = fields.number("weight") ?? 1.0
            let view = fields.enumValue("view", default: InjectionRule.View.text)
            let summary = fields.string("description") ?? ""
            let pattern = fields.pattern(caseless: true)
            let keywords = fields.keywords()
            var anchoredPattern: CompiledPattern?
            if fields.bool("anchored") == true {
                if keywords.isEmpty, fields.value("literals") == nil, let value = fields.value("anchored") {
                    fields.fail(
                        value, "`anchored: true` needs `keywords` or `literals` (what every match starts with)")
                } else if let source = fields.value("pattern")?.string {
                    anchoredPattern = try? CompiledPattern(source, caseless: true, anchored: true)
                }
            }
            let obfuscatedOnly = fields.bool("obfuscated_only") ?? false
            let followedBy = fields.keywords("followed_by")
            let followedWithin = fields.number("followed_within").map { Int(max(1, min($0, Double(KeywordIndex.windowAfter)))) }
            if !followedBy.isEmpty, keywords.isEmpty, let value = fields.value("followed_by") {
                fields.fail(value, "`followed_by` needs `keywords` (the words it must follow)")
            }
            var literals: [[UInt8]] = []
            if let value = fields.value("literals") {
                // ASCII only: the gate compares ASCII case-insensitively, as PCRE2_CASELESS does for
                // ASCII (`k` and `s` also match the Kelvin sign and long s, so they are refused too).
                let strings = value.sequence?.compactMap(\.string) ?? []
                if strings.count == value.sequence?.count, !strings.isEmpty,
                    strings.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 < 0x80 && $0 | 0x20 != 0x6B && $0 | 0x20 != 0x73 } })
                {
                    literals = strings.map { Array($0.utf8) }
                } else {
                    fields.fail(value, "`literals` must be a list of non-empty ASCII strings without `k` or `s`")
                }
            }
            errors += fields.errors
            guard let id, let pattern, let view else { continue }
            result.append(
                InjectionRule(
                    id: id, category: category, weight: weight, view: view, summary: summary, pattern: pattern,
                    keywords: keywords, anchoredPattern: anchoredPattern, obfuscatedOnly: obfuscatedOnly,
                    followedBy: followedBy, followedWithin: followedWithin ?? KeywordIndex.windowAfter,
                    literals: literals))
        }
        return result
    }

    mutating func loadPII(path: String) -> [PIIRule] {
        guard let rules = ruleNodes(path: path) else { return [] }
        var result: [PIIRule] = []
        var seen = Set<String>()
        for node in rules {
            var fields = Fields(node: node, file: path)
            let id = fields.identifier(seen: &seen)
            let type: PIIType?? = fields.enumValue("type", default: nil)
            let validator = fields.enumValue("validator", default: PIIValidator.none)
            let group = Int(fields.number("group") ?? 0)
            let summary = fields.string("description") ?? ""
            let caseless = fields.bool("caseless") ?? false
            let pattern = fields.pattern(caseless: caseless)
            let minimumDigits = Int(fields.number("min_digits") ?? 0)
            let minimumDots = Int(max(0, min(fields.number("min_dots") ?? 0, 64)))
            if minimumDots > 0, minimumDigits == 0, let value = fields.value("min_dots") {
                fields.fail(value, "`min_dots` needs `min_digits`")
            }
            var nearByte: UInt8?
            if let near = fields.string("near") {
                if near.utf8.count == 1, let byte = near.utf8.first, byte < 0x80 {
                    nearByte = byte
                } else if let value = fields.value("near") {
                    fields.fail(value, "`near` must be one ASCII character")
                }
            }
            var nearRun: ByteClass?
            if let run = fields.string("near_run") {
                if nearByte == nil, let value = fields.value("near_run") {
                    fields.fail(value, "`near_run` needs `near`")
                } else if let parsed = ByteClass(run, caseless: caseless) {
                    nearRun = parsed
                } else if let value = fields.value("near_run") {
                    fields.fail(value, "`near_run` must be ASCII characters and ranges such as `a-z0-9.-`")
                }
            }
            let nearMinimum = Int(max(1, min(fields.number("near_min") ?? 1, 64)))
            if fields.value("near_min") != nil, nearRun == nil, let value = fields.value("near_min") {
                fields.fail(value, "`near_min` needs `near` and `near_run`")
            }
            var lead: (ByteClass, CompiledPattern)?
            if let text = fields.string("lead"), let value = fields.value("lead") {
                if minimumDigits == 0 || (fields.number("before") ?? 0) < 1 {
                    fields.fail(value, "`lead` needs `min_digits` and `before` (how many lead characters)")
                } else if let parsed = ByteClass(text, caseless: caseless) {
                    if let source = fields.value("pattern")?.string,
                        let anchored = try? CompiledPattern(source, caseless: caseless, anchored: true)
                    {
                        lead = (parsed, anchored)
                    }
                } else {
                    fields.fail(value, "`lead` must be ASCII characters and ranges such as `a-z`")
                }
            }
            let windowBefore = fields.number("before").map { Int(max(0, min($0, 4096))) }
            let windowAfter = fields.number("after").map { Int(max(0, min($0, 65536))) }
            var literals: [[UInt8]] = []
            if let value = fields.value("literals") {
                if let items = value.sequence, items.allSatisfy({ !($0.string ?? "").isEmpty }) {
                    literals = items.compactMap { $0.string.map { Array($0.utf8) } }
                } else {
                    fields.fail(value, "`literals` must be a list of non-empty strings")
                }
            }
            if case .some(.none) = type { fields.fail(node, "rule needs a `type` (\(PIIType.allCases.map(\.rawValue).joined(separator: ", ")))") }
            if let pattern, group > pattern.captureCount {
                fields.fail(node, "group \(group) does not exist; the pattern has \(pattern.captureCount) groups")
            }
            errors += fields.errors
            guard let id, let type = type ?? nil, let validator, let pattern, group <= pattern.captureCount else {
                continue
            }
            result.append(
                PIIRule(
                    id: id, type: type, validator: validator, group: group, summary: summary, pattern: pattern,
                    minimumDigits: minimumDigits, minimumDots: minimumDots, lead: lead, nearByte: nearByte, nearRun: nearRun, nearMinimum: nearMinimum, literals: literals,
                    caseless: caseless,
                    windowBefore: windowBefore, windowAfter: windowAfter))
        }
        return result
    }

    private mutating func ruleNodes(path: String) -> [Node]? {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            errors.append(PolicyIssue(file: path, line: 1, message: "cannot read pack: \(error.localizedDescription)"))
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            errors.append(PolicyIssue(file: path, line: Self.line(of: error), message: "invalid YAML: \(error)"))
            return nil
        } catch {
            errors.append(PolicyIssue(file: path, line: 1, message: "invalid YAML: \(error)"))
            return nil
        }
        guard let mapping = root?.mapping else {
            errors.append(PolicyIssue(file: path, line: root?.mark?.line ?? 1, message: "a pack is a mapping with `rules:`"))
            return nil
        }
        if let version = mapping["version"], version.int != 1 {
            errors.append(PolicyIssue(file: path, line: version.mark?.line ?? 1, message: "unsupported pack version"))
        }
        guard let rules = mapping["rules"]?.sequence else {
            errors.append(PolicyIssue(file: path, line: root?.mark?.line ?? 1, message: "`rules:` must be a list"))
            return nil
        }
        return Array(rules)
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return 1
        }
    }
}

/// Typed access to one rule mapping that records what is missing or wrong, with the line it is on.
private struct Fields {
    let node: Node
    let file: String
    var errors: [PolicyIssue] = []

    init(node: Node, file: String) {
        self.node = node
        self.file = file
        if node.mapping == nil { errors.append(PolicyIssue(file: file, line: Self.line(node), message: "a rule is a mapping")) }
    }

    static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    mutating func fail(_ at: Node, _ message: String) {
        errors.append(PolicyIssue(file: file, line: Self.line(at), message: message))
    }

    func value(_ key: String) -> Node? { node.mapping?[key] }

    mutating func string(_ key: String) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.string else {
            fail(value, "`\(key)` must be a string")
            return nil
        }
        return text
    }

    mutating func number(_ key: String) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.float ?? value.int.map(Double.init), number.isFinite else {
            fail(value, "`\(key)` must be a number")
            return nil
        }
        return number
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.bool else {
            fail(value, "`\(key)` must be true or false")
            return nil
        }
        return flag
    }

    /// The raw value parsed as `T`; `default` when absent, nil (with an error) when present but unknown.
    mutating func enumValue<T: RawRepresentable>(_ key: String, default fallback: T?) -> T?? where T.RawValue == String {
        guard let value = value(key) else { return .some(fallback) }
        guard let raw = value.string, let parsed = T(rawValue: raw) else {
            fail(value, "unknown `\(key)` value \(value.string.map { "'\($0)'" } ?? "")")
            return nil
        }
        return .some(parsed)
    }

    mutating func enumValue<T: RawRepresentable>(_ key: String, default fallback: T) -> T? where T.RawValue == String {
        let parsed: T?? = enumValue(key, default: .some(fallback))
        return parsed ?? nil
    }

    /// Keywords are lower-case word prefixes made of ASCII letters, digits or any non-ASCII characters,
    /// optionally ending in `$` for a whole word.
    mutating func keywords(_ key: String = "keywords") -> [String] {
        guard let value = value(key) else { return [] }
        guard let sequence = value.sequence else {
            fail(value, "`\(key)` must be a list of words")
            return []
        }
        var words: [String] = []
        for item in sequence {
            let word = item.string ?? ""
            let stem = word.hasSuffix("$") ? word.dropLast() : Substring(word)
            let valid = !stem.isEmpty && stem.utf8.allSatisfy { byte in
                byte >= 0x80 || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            }
            if valid { words.append(word) } else { fail(item, "keyword '\(word)' must be lower-case letters or digits (and an optional final `$`)") }
        }
        return words
    }

    mutating func identifier(seen: inout Set<String>) -> String? {
        guard let id = string("id") else {
            fail(node, "rule needs an `id`")
            return nil
        }
        let allowed = id.utf8.allSatisfy { byte in
            UnicodeFolding.isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
                || byte == 0x2E
        }
        guard !id.isEmpty, allowed else {
            fail(value("id") ?? node, "rule id '\(id)' may only use letters, digits, '-', '_' and '.'")
            return nil
        }
        guard seen.insert(id).inserted else {
            fail(value("id") ?? node, "duplicate rule id '\(id)'")
            return nil
        }
        return id
    }

    mutating func pattern(caseless: Bool) -> CompiledPattern? {
        guard let source = string("pattern") else {
            if value("pattern") == nil { fail(node, "rule needs a `pattern`") }
            return nil
        }
        do {
            return try CompiledPattern(source, caseless: caseless)
        } catch {
            fail(value("pattern") ?? node, "pattern does not compile: \(error)")
            return nil
        }
    }
}
