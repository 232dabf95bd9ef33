import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// The `tollgate` command: the gateway and its tools.
struct Tollgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Tollgate: a policy-enforcing, OpenAI-compatible LLM gateway.",
        subcommands: [ServeCommand.self, MockProviderCommand.self, PolicyCommand.self, ScreenCommand.self])
}

@main
enum Entrypoint {
    static func main() async {
        // Run Swift concurrency on NIO's event loops, so a request does not hop between the
        // loop that owns its connection and a separate thread pool on every await. Nothing in
        // the request path blocks: libcurl, hiredis and file persistence run on their own threads.
        if getenv("TOLLGATE_NIO_EXECUTOR").map({ String(cString: $0) }) == "1" {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await Tollgate.main()
    }
}
