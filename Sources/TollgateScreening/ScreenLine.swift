import Foundation

/// The `tollgate screen` line protocol: one JSON object `{"text": ...}` in, one line of findings out,
/// `{"injection":bool,"score":n,"rules":[...],"pii":[{"type","start","end"}]}` with code-point offsets.
/// Bad input yields `{"error": ...}` on its line instead of stopping the run, so line N of the output
/// always belongs to line N of the input.
public enum ScreenLine {
    public static func process(_ jsonLine: String, engine: ScreeningEngine) -> String {
        let text: String
        switch extractText(jsonLine) {
        case .success(let value): text = value
        case .failure(let message): return "{\"error\":\(jsonString(message))}"
        }
        let verdict = engine.scanInjection(text)
        let findings = engine.findPII(text)
        var out = "{\"injection\":\(verdict.isInjection),\"score\":\(formatScore(verdict.score)),\"rules\":["
        out += verdict.ruleIDs.map(jsonString).joined(separator: ",")
        out += "],\"pii\":["
        out += findings.map { "{\"type\":\"\($0.type.rawValue)\",\"start\":\($0.start),\"end\":\($0.end)}" }
            .joined(separator: ",")
        out += "]}"
        return out
    }

    private enum Extracted {
        case success(String)
        case failure(String)
    }

    private static func extractText(_ line: String) -> Extracted {
        guard let data = line.data(using: .utf8), !data.isEmpty else { return .failure("empty line") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            return .failure("invalid JSON")
        }
        guard let dictionary = object as? [String: Any] else { return .failure("expected a JSON object") }
        guard let text = dictionary["text"] as? String else { return .failure("missing string field \"text\"") }
        return .success(text)
    }

    private static func formatScore(_ score: Double) -> String {
        let rounded = (score * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// A JSON string literal for `value`.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
