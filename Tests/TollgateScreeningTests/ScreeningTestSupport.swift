import Foundation
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
