import ArgumentParser
import Foundation
import TollgateCore
import TollgateScreening

/// `tollgate screen`: JSON lines `{"text": ...}` on stdin, one line of findings per input line on stdout.
/// Used by `scripts/eval_screening.py`; `--bench FILE` times the screens on a file's text instead.
struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Screen JSON lines {\"text\": ...} from stdin for prompt injection and PII.",
        discussion: """
            Writes one line per input line, in order:
            {"injection":bool,"score":n,"rules":[...],"pii":[{"type","start","end"}]} (code-point offsets),
            or {"error":"..."} for a line that is not a JSON object with a string "text".
            """)

    @Option(help: "Policy file: its screening block names the packs and threshold, as `serve` reads them.")
    var config: String = "policies/tollgate.yaml"

    @Option(help: "Use injection.yaml and pii.yaml from this folder instead (relative to the policy file's folder).")
    var packsDir: String?

    @Option(help: "Injection score threshold (default: the policy's).")
    var threshold: Double?

    @Option(help: "Instead of reading stdin, time screening of this file's text (in 1 KB and 100 KB slices).")
    var bench: String?

    @Option(help: "Iterations per slice size in --bench mode.")
    var iterations: Int = 2000

    @Option(help: "What --bench times: all, injection, pii, or rules (per-rule profile).")
    var benchPart: String = "all"

    @Option(help: "Slice sizes in KB for --bench, comma-separated.")
    var benchSizes: String = "1,100,1024"

    func run() throws {
        let engine = try loadEngine()
        if let bench {
            let sizes = benchSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { $0 * 1024 }
            try ScreenBenchmark(engine: engine, iterations: max(iterations, 1), part: benchPart, sizes: sizes).run(file: bench)
            return
        }
        var output = Data()
        output.reserveCapacity(1 << 16)
        while let line = readLine(strippingNewline: true) {
            output.append(contentsOf: ScreenLine.process(line, engine: engine).utf8)
            output.append(0x0A)
            if output.count >= 1 << 16 {
                FileHandle.standardOutput.write(output)
                output.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(output)
    }

    /// The packs `serve` would load for this policy; the policy's folder's `packs/` when the policy
    /// screens nothing (an evaluation always wants both screens).
    private func loadEngine() throws -> ScreeningEngine {
        let policyFolder = URL(fileURLWithPath: config).deletingLastPathComponent()
        var injection: [String] = []
        var pii: String?
        var policyThreshold = 1.0
        if packsDir == nil {
            let text = try String(contentsOfFile: config, encoding: .utf8)
            let screening: ScreeningSettings
            do {
                screening = try PolicyLoader.load(text: text, path: config).screening
            } catch {
                throw ValidationError(error.description)
            }
            injection = screening.injectionPacks
            pii = screening.piiPack
            policyThreshold = screening.injectionThreshold
        }
        if injection.isEmpty && pii == nil {
            let folder = packsDir ?? "packs"
            let packs = folder.hasPrefix("/") ? URL(fileURLWithPath: folder) : policyFolder.appendingPathComponent(folder)
            injection = [packs.appendingPathComponent("injection.yaml").path]
            pii = packs.appendingPathComponent("pii.yaml").path
        }
        do {
            return try ScreeningEngine.load(injectionPackPaths: injection, piiPackPath: pii, injectionThreshold: threshold ?? policyThreshold)
        } catch let error as PolicyLoadError {
            throw ValidationError(error.description)
        }
    }
}

/// Times `scanInjection` + `findPII` on slices of a file, printing mean microseconds per call.
private struct ScreenBenchmark {
    let engine: ScreeningEngine
    let iterations: Int
    let part: String
    let sizes: [Int]

    func run(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for size in sizes where size > 0 {
            let slice = Self.slice(text, bytes: size)
            let count = size >= 1024 * 1024 ? max(iterations / 1000, 3) : size > 1024 ? max(iterations / 50, 10) : iterations
            var sink = 0
            let clock = ContinuousClock()
            // One untimed call warms the scratch pool and page cache.
            sink += engine.findPII(slice).count + engine.scanInjection(slice).ruleIDs.count
            if part == "rules" {
                print("\(size / 1024) KB, slowest rules:")
                for timing in engine.profileRules(slice, iterations: max(count / 10, 1)).prefix(80) {
                    print("  \(timing.ruleID): \(String(format: "%.1f", timing.microseconds)) µs")
                }
                continue
            }
            let elapsed = clock.measure {
                for _ in 0..<count {
                    if part != "pii" { sink &+= engine.scanInjection(slice).ruleIDs.count }
                    if part != "injection" { sink &+= engine.findPII(slice).count }
                }
            }
            let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            let label = size >= 1024 * 1024 ? "\(size / 1024 / 1024) MB" : "\(size / 1024) KB"
            print("\(label): \(String(format: "%.1f", micros / Double(count))) µs per screen (\(part)), \(count) runs, sink \(sink)")
        }
    }

    /// `text` repeated or cut to about `bytes` UTF-8 bytes, on a character boundary.
    static func slice(_ text: String, bytes: Int) -> String {
        guard !text.isEmpty else { return String(repeating: "a", count: bytes) }
        var result = ""
        while result.utf8.count < bytes { result += text }
        var end = result.utf8.index(result.utf8.startIndex, offsetBy: bytes)
        while end > result.startIndex, !result.unicodeScalars.indices.contains(end) { end = result.utf8.index(before: end) }
        return String(result[..<end])
    }
}
