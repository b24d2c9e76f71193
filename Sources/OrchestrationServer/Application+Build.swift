import Foundation
import Hummingbird
import Orchestration
import OrchestrationExecutors
import Prometheus
import ServiceLifecycle

/// What `novacron serve` needs to build its application.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Allow binding beyond loopback without tokens.
    public var insecure: Bool
    /// API tokens; empty means no authentication (loopback only, unless `insecure`).
    public var tokens: APITokens

    public init(host: String = "127.0.0.1", port: Int = 8080, insecure: Bool = false, tokens: APITokens = APITokens()) {
        self.host = host
        self.port = port
        self.insecure = insecure
        self.tokens = tokens
    }

    /// Whether `host` only listens on this machine.
    public var isLoopback: Bool {
        ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
    }
}

/// Runs the engine's work for as long as the application runs; stops on graceful shutdown.
struct EngineService: Service {
    let engine: WorkflowEngine

    func run() async throws {
        // Carry on what a previous process left unfinished, while doing the engine's work.
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run() }
                _ = try await engine.recover()
                try await group.next()
            }
        }
    }
}

/// Builds the server: the REST API under `/api/v1`, `/healthz`, `/readyz`, problem documents for
/// every error, and the engine as a service beside it. Tests call it too.
///
/// ```swift
/// let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 8080))
/// try await app.runService()
/// ```
public func buildApplication(
    engine: WorkflowEngine, store: (any ExecutionStore)?, configuration: ServerConfiguration
) async throws -> some ApplicationProtocol {
    guard configuration.isLoopback || configuration.insecure || !configuration.tokens.isEmpty else {
        throw EngineError(.invalidInput, "refusing to listen on \(configuration.host) without API tokens (--tokens-file or NOVACRON_API_TOKENS); use a loopback address, give tokens, or pass --insecure")
    }
    // The saved workflows are registered before the first request is served.
    try await engine.restoreWorkflows()
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    if !configuration.tokens.isEmpty { router.add(middleware: AuthMiddleware(tokens: configuration.tokens)) }
    let registry = PrometheusCollectorRegistry()
    _ = EngineMetrics(engine: engine, registry: registry)
    router.get("metrics") { _, _ in registry.response() }
    router.get("healthz") { _, _ in "ok" }
    router.get("readyz") { _, _ in "ok" }
    APIController(engine: engine, store: store).addRoutes(to: router.group("api/v1"))
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "novacron"))
    app.addServices(EngineService(engine: engine))
    return app
}
