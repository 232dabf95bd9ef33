import ArgumentParser

/// Minimal root command until the serving CLI lands; it only knows `screen`.
struct Tollgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate", abstract: "Policy-enforcing LLM gateway.", subcommands: [ScreenCommand.self])
}

Tollgate.main()
