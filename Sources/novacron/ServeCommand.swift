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
            application/problem+json. With API tokens (--tokens-file, NOVACRON_API_TOKENS), every
            route but /healthz and /readyz needs a bearer token: viewer reads, operator runs and
            operates executions, admin registers workflows. Without tokens it listens on loopback
            only, unless --insecure. SIGTERM or Ctrl-C stops it; executions still running are carried on at
            the next start.
            """
    )

    @Option(name: .long, help: "The address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "The port to listen on.") var port = 8080
    @Flag(name: .long, help: "Listen beyond loopback without authentication.") var insecure = false
    @Option(name: .long, help: ArgumentHelp("API tokens: a list of {name, role, sha256}; NOVACRON_API_TOKENS=role:token,… adds more.", valueName: "file")) var tokensFile: String?
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .long, help: ArgumentHelp("A secrets file (mode 600).", valueName: "file")) var secretsFile: String?
    @Option(name: .long, help: "Run at most N steps of an execution at once (default 64).") var maxParallel: Int?

    func run() async throws {
        let secrets: SecretProvider
        do { secrets = try secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider() } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        var tokens = APITokens()
        do {
            if let tokensFile { tokens.merge(try APITokens(file: tokensFile)) }
            if let env = ProcessInfo.processInfo.environment["NOVACRON_API_TOKENS"], !env.isEmpty { tokens.merge(try APITokens(environment: env)) }
        } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let store = try storeOptions.open()
        let engine = WorkflowEngine(
            executors: .standard(), configuration: EngineConfiguration(workerLimit: maxParallel ?? 64), secrets: secrets,
            cache: store ?? InMemoryStepCache(), store: store)
        do {
            let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(host: host, port: port, insecure: insecure, tokens: tokens))
            try await app.runService()
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }
}
