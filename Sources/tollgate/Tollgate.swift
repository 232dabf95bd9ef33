import ArgumentParser

/// The `tollgate` command: the gateway and its tools.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Tollgate: a policy-enforcing, OpenAI-compatible LLM gateway.",
        subcommands: [ServeCommand.self, KeysCommand.self, MockProviderCommand.self, PolicyCommand.self, ScreenCommand.self, AuditCommand.self])
}
