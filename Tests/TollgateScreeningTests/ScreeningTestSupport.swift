import Foundation
import Testing
import TollgateScreening

/// Loads the repository's default packs once for all tests.
enum TestEngine {
    static let packsDirectory: String = {
        // Tests/TollgateScreeningTests/<this file> -> repository root
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent("policies/packs").path
    }()

    static let shared: ScreeningEngine = {
        do {
            return try ScreeningEngine.load(
                injectionPackPaths: [packsDirectory + "/injection.yaml"], piiPackPath: packsDirectory + "/pii.yaml",
                injectionThreshold: 1.0)
        } catch {
            fatalError("default packs do not load: \(error)")
        }
    }()

    static func temporaryPack(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString).yaml").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Expects the default packs to call every one of `texts` an injection; a failure names its text.
func expectInjections(_ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for text in texts {
        #expect(TestEngine.shared.scanInjection(text).isInjection, "\(text)", sourceLocation: sourceLocation)
    }
}

/// Expects the default packs to let every one of `texts` through; a failure names its text.
func expectNoInjections(_ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for text in texts {
        #expect(!TestEngine.shared.scanInjection(text).isInjection, "\(text)", sourceLocation: sourceLocation)
    }
}
