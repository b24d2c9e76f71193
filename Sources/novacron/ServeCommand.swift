import ArgumentParser
import Foundation
import Hummingbird
import Orchestration
import OrchestrationExecutors
import OrchestrationServer

/// `novacron serve [--host 127.0.0.1] [--port 8080] [--db PATH | --memory]`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the REST API (/api/v1), /healthz and /readyz, running workflows on the store.",
        discussion: """
            Carries on the executions the store holds as unfinished at start. Errors are
            application/problem+json. Listens on loopback only unless --insecure (API tokens are
            not built yet). SIGTERM or Ctrl-C stops it; executions still running are carried on at
            the next start.
            """
    )

    @Option(name: .long, help: "The address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "The port to listen on.") var port = 8080
    @Flag(name: .long, help: "Listen beyond loopback without authentication.") var insecure = false
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: ArgumentHelp("A secrets file (mode 600).", valueName: "file")) var secretsFile: String?
    @Option(name: .long, help: "Run at most N steps of an execution at once (default 64).") var maxParallel: Int?

    func run() async throws {
        let secrets: SecretProvider
        do { secrets = try secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider() } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let store = try storeOptions.open()
        let engine = WorkflowEngine(
            executors: .standard(), configuration: EngineConfiguration(workerLimit: maxParallel ?? 64), secrets: secrets,
            cache: store ?? InMemoryStepCache(), store: store)
        do {
            let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(host: host, port: port, insecure: insecure))
            try await app.runService()
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }
}
