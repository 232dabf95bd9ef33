import ArgumentParser
import Foundation
import TollgateServer

/// `tollgate audit ...`: tools for the audit trail.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Work with audit trails.", subcommands: [AuditVerifyCommand.self])
}

/// `tollgate audit verify`: checks the hash chain; exit 1 naming the first bad record.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify audit trail hash chains.")

    @Argument(help: "Audit trail files (JSON lines).") var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("\(file): cannot read\n".utf8))
                failed = true
                continue
            }
            if let problem = AuditChain.verify(data) {
                FileHandle.standardError.write(Data("\(file):\(problem.line): \(problem.reason)\n".utf8))
                failed = true
            } else {
                print("\(file): ok")
            }
        }
        if failed { throw ExitCode(1) }
    }
}
