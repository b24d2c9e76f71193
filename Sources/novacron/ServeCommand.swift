import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Orchestration
import OrchestrationExecutors
import OrchestrationServer
import OrchestrationSQLite

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

    @Option(name: .long, help: ArgumentHelp("A settings file (YAML) with any of the keys below; default $NOVACRON_CONFIG.", valueName: "file"))
    var config: String?
    @Option(name: .long, help: "The address to listen on (default 127.0.0.1).") var host: String?
    @Option(name: .long, help: "The port to listen on (default 8080).") var port: Int?
    @Flag(name: .long, help: "Listen beyond loopback without authentication.") var insecure = false
    @Option(
        name: .long, help: ArgumentHelp("API tokens: a list of {name, role, sha256}; NOVACRON_API_TOKENS=role:token,… adds more.", valueName: "file"))
    var tokensFile: String?
    @Option(name: .long, help: ArgumentHelp("The execution store, an SQLite file (default ~/.novacron/novacron.db).", valueName: "path")) var db:
        String?
    @Flag(name: .long, help: "Keep executions in memory only: nothing is saved, nothing can be resumed.") var memory = false
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store on PostgreSQL instead of SQLite, postgres://user@host:5432/database (NOVACRON_DATABASE_URL; password also from PGPASSWORD).",
            valueName: "url")) var databaseURL: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "On PostgreSQL: how long this node holds an execution unrenewed; another node takes over a dead one's after it (default 5s).",
            valueName: "duration")) var leaseDuration: String?
    @Option(name: .long, help: "processCrash (default) or powerLoss (fsync on every commit).") var durability: String?
    @Option(name: .long, help: ArgumentHelp("A secrets file (mode 600).", valueName: "file")) var secretsFile: String?
    @Option(name: .long, help: "Run at most N steps of an execution at once (default 64).") var maxParallel: Int?
    @Option(
        name: .long,
        help: ArgumentHelp("After SIGTERM, how long running steps get to finish before they are handed back (default 30s).", valueName: "duration"))
    var drainGrace: String?

    @Option(name: .long, help: ArgumentHelp("The Prometheus metric triggers read (default http://127.0.0.1:9090).", valueName: "url"))
    var prometheusURL: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Comma-separated host names clients reach the server by (the Host header); default: loopback names on loopback, any otherwise.",
            valueName: "names")) var allowedHosts: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Close a connection that sends nothing for this long, between requests or while a request's head is awaited (default 30s).",
            valueName: "duration")) var idleTimeout: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Close a connection whose request head (line and headers) has not arrived in full within this (default 30s).",
            valueName: "duration")) var headerTimeout: String?
    @Option(name: .long, help: "Serve at most N connections at once (default 512).") var maxConnections: Int?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Refuse workflow definitions larger than this many bytes (default 33554432, 32 MiB, as the other commands; NOVACRON_MAX_DEFINITION_BYTES).",
            valueName: "bytes")) var maxDefinitionBytes: Int?
    @Option(name: .long, help: "Log at this level and above: trace, debug, info (default), warning, error (NOVACRON_LOG_LEVEL).") var logLevel:
        String?
    @Option(name: .long, help: "text (default) or json: one JSON object a line (NOVACRON_LOG_FORMAT).") var logFormat: String?
    @Option(name: .long, help: ArgumentHelp("Append the log to this file instead of standard error (NOVACRON_LOG_FILE).", valueName: "path"))
    var logFile: String?
    @Flag(
        name: .long,
        help: "Apply the learning engine's safe suggestions at or above --min-confidence as new workflow versions (reverted when they do worse).")
    var autoOptimize = false
    @Option(name: .long, help: "The weight of the newest duration in the learned moving average (default 0.1).") var learningRate: Double?
    @Option(name: .long, help: "The confidence a suggestion needs to be applied automatically (default 0.8).") var minConfidence: Double?
    @Option(name: .long, help: "Executions before a workflow has a pattern (default 10).") var minExecutions: Int?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Send traces over OTLP to this collector (http://host:4318; NOVACRON_TRACES_ENDPOINT; OTEL_EXPORTER_OTLP_ENDPOINT wins).",
            valueName: "url"))
    var tracesEndpoint: String?
    @Option(name: .long, help: "http/protobuf, the only protocol offered (NOVACRON_TRACES_PROTOCOL; OTEL_EXPORTER_OTLP_PROTOCOL wins).")
    var tracesProtocol: String?
    @Option(name: .long, help: "The service name traces carry (default novacron; OTEL_SERVICE_NAME wins).") var serviceName: String?
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Delete executions, events and learned-from observations older than this, every twelfth of that age or hour, whichever is sooner (at least 1h; default none: keep everything; NOVACRON_RETENTION).",
            valueName: "age"))
    var retention: String?

    /// What was given on the command line, by settings key.
    var flags: [ServeSettings.Key: String] {
        var f: [ServeSettings.Key: String] = [:]
        f[.host] = host
        f[.port] = port.map(String.init)
        if insecure { f[.insecure] = "true" }
        f[.tokensFile] = tokensFile
        f[.db] = db
        if memory { f[.memory] = "true" }
        f[.databaseURL] = databaseURL
        f[.leaseDuration] = leaseDuration
        f[.durability] = durability
        f[.secretsFile] = secretsFile
        f[.maxParallel] = maxParallel.map(String.init)
        f[.drainGrace] = drainGrace
        f[.prometheusURL] = prometheusURL
        f[.allowedHosts] = allowedHosts
        f[.idleTimeout] = idleTimeout
        f[.headerTimeout] = headerTimeout
        f[.maxConnections] = maxConnections.map(String.init)
        f[.maxDefinitionBytes] = maxDefinitionBytes.map(String.init)
        f[.logLevel] = logLevel
        f[.logFormat] = logFormat
        f[.logFile] = logFile
        if autoOptimize { f[.autoOptimize] = "true" }
        f[.learningRate] = learningRate.map { "\($0)" }
        f[.minConfidence] = minConfidence.map { "\($0)" }
        f[.minExecutions] = minExecutions.map(String.init)
        f[.tracesEndpoint] = tracesEndpoint
        f[.tracesProtocol] = tracesProtocol
        f[.serviceName] = serviceName
        f[.retention] = retention
        return f
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeSettings
        let secrets: SecretProvider
        var tokens = APITokens()
        let logger: Logger
        do {
            settings = try await ServeSettings.resolve(flags: flags, environment: environment, configFile: config)
            secrets = try settings.secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider()
            logger = try settings.log.makeLogger(secrets: secrets.allValues)
            if let file = settings.tokensFile { tokens.merge(try APITokens(file: file)) }
            if let env = environment["NOVACRON_API_TOKENS"], !env.isEmpty { tokens.merge(try APITokens(environment: env)) }
        } catch {
            Console.err("error: \((error as? EngineError)?.message ?? "\(error)")")
            throw ExitStatus.invalidInput
        }
        let app = try await Self.application(settings: settings, tokens: tokens, secrets: secrets, logger: logger)
        do {
            try await app.runService()
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    /// The application, or the store's or settings' error on standard error.
    static func application(settings: ServeSettings, tokens: APITokens, secrets: SecretProvider, logger: Logger) async throws
        -> some ApplicationProtocol
    {
        do {
            return try await buildApplication(settings: settings, tokens: tokens, secrets: secrets, logger: logger, executors: .withCloudFunctions())
        } catch let error as StoreError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }
}
