import ArgumentParser
import Foundation
import TollgateServer

/// `tollgate policy ...`: tools for policy files.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Work with policy files.", subcommands: [PolicyCheckCommand.self])
}

/// `tollgate policy check`: validates a policy and its packs, printing `file:line: message`.
struct PolicyCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate a policy file; exit 1 on any error.")

    @Argument(help: "Policy file.") var path: String = "policies/tollgate.yaml"

    func run() throws {
        let (problems, warnings) = PolicyValidation.check(atPath: path)
        for warning in warnings { FileHandle.standardError.write(Data("\(warning)\n".utf8)) }
        if problems.isEmpty {
            print("\(path): ok")
            return
        }
        for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
        throw ExitCode(1)
    }
}
