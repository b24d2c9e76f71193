import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Orchestration
import OrchestrationExecutors
import Prometheus
import ServiceLifecycle
import Synchronization

/// What `novacron serve` needs to build its application.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Allow binding beyond loopback without tokens.
    public var insecure: Bool
    /// API tokens; empty means no authentication (loopback only, unless `insecure`).
    public var tokens: APITokens
    /// After SIGTERM, how long running steps get to finish before they are handed back. Default 30 s.
    public var drainGrace: Duration
    /// The Prometheus that metric triggers without `conditions.url` read. Default http://127.0.0.1:9090.
    public var prometheusURL: String?
    /// The names clients may reach the server by (the `Host` header, without port). Empty: loopback
    /// names when listening on loopback, any name otherwise. See ``RequestGuard``.
    public var allowedHosts: [String]
    /// A connection that sends nothing for this long is closed: between requests, and while a
    /// request's head (or the next part of its body) is awaited. Default 30 s.
    public var idleTimeout: Duration
    /// A request head (the request line and headers) must arrive in full within this of the
    /// connection's start (after a response: within the idle timeout, if longer); else the
    /// connection is closed. Default 30 s.
    public var headerTimeout: Duration = .seconds(30)
    /// Connections served at once; further ones wait in the listen backlog. Default 512.
    public var maxConnections: Int
    /// Event streams (SSE) open at once per token, and in all. Defaults 16 and 256.
    public var streamLimits: StreamLimits
    /// The largest workflow definition a request may carry, in bytes (default 32 MiB, as the CLI).
    public var maxDefinitionBytes: Int
    /// Deletes what is older than its age, every twelfth of it (at most every hour) (with a store); `nil`: keeps everything.
    public var retention: Retention?
    /// A second SIGTERM or SIGINT ends the drain at once (what still runs is handed back). Only
    /// for a process that is the server (`novacron serve`): it traps those signals. Default off.
    public var secondSignalEndsDrain = false

    public init(
        host: String = "127.0.0.1", port: Int = 8080, insecure: Bool = false, tokens: APITokens = APITokens(), drainGrace: Duration = .seconds(30),
        prometheusURL: String? = nil, allowedHosts: [String] = [], idleTimeout: Duration = .seconds(30), maxConnections: Int = 512,
        streamLimits: StreamLimits = StreamLimits(), maxDefinitionBytes: Int = WorkflowDecoder.defaultMaximumBytes
    ) {
        self.maxDefinitionBytes = maxDefinitionBytes
        self.host = host
        self.port = port
        self.insecure = insecure
        self.tokens = tokens
        self.drainGrace = drainGrace
        self.prometheusURL = prometheusURL
        self.allowedHosts = allowedHosts
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.streamLimits = streamLimits
    }

    /// Whether `host` only listens on this machine (an address in 127.0.0.0/8, `::1` or `localhost`).
    public var isLoopback: Bool { Loopback.isLoopbackName(host) }
}

/// Builds what `novacron serve` runs from its settings: opens the store they name (SQLite, or
/// PostgreSQL or memory), builds the engine and its learning engine on it, and the application around them.
/// The CLI calls this; tests may too.
///
/// ```swift
/// let settings = try await ServeSettings.resolve(flags: [.port: "8080"], environment: [:], configFile: nil)
/// let app = try await buildApplication(settings: settings, secrets: SecretProvider(), logger: logger, executors: .standard())
/// try await app.runService()
/// ```
public func buildApplication(
    settings: ServeSettings, tokens: APITokens = APITokens(), secrets: SecretProvider, logger: Logger, executors: ExecutorRegistry,
    time: TimeSource = .system
) async throws -> some ApplicationProtocol {
    let store = try await settings.openStore()
    var engineConfiguration = EngineConfiguration(workerLimit: settings.maxParallel, logger: logger)
    let traces = try settings.tracing?.makeBackend(logger: logger)
    engineConfiguration.tracer = traces?.tracer
    let engine = WorkflowEngine(
        executors: executors, configuration: engineConfiguration, secrets: secrets,
        cache: (store as? any StepCache) ?? InMemoryStepCache(), store: store,
        learning: LearningEngine(configuration: settings.optimization, store: store))
    var configuration = settings.serverConfiguration(tokens: tokens)
    configuration.secondSignalEndsDrain = true
    return try await buildApplication(engine: engine, store: store, configuration: configuration, time: time, traceExport: traces?.service)
}

/// Builds the server around an engine: the REST API under `/api/v1`, `/healthz`, `/readyz`,
/// problem documents for every error, and the engine, event bus, triggers and outbound webhooks
/// as services beside it, in one service group with graceful shutdown. `time` is what the
/// triggers, event bus and webhooks read dates from and sleep on.
///
/// ```swift
/// let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 8080))
/// try await app.runService()
/// ```
///
/// `traceExport` (``TraceExport/makeBackend(logger:)``'s service) stops last, after the engine's
/// drain, so the spans of the drain are sent.
public func buildApplication(
    engine: WorkflowEngine, store: (any Store)?, configuration: ServerConfiguration, time: TimeSource = .system, traceExport: (any Service)? = nil
) async throws -> some ApplicationProtocol {
    guard configuration.isLoopback || configuration.insecure || !configuration.tokens.isEmpty else {
        throw EngineError(
            .invalidInput,
            "refusing to listen on \(configuration.host) without API tokens (--tokens-file or NOVACRON_API_TOKENS); use a loopback address, give tokens, or pass --insecure"
        )
    }
    // The saved workflows are registered before the first request is served.
    try await engine.restoreWorkflows()
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: NulGuard())
    router.add(
        middleware: RequestGuard(allowedHosts: Set(configuration.allowedHosts.map { $0.lowercased() }), loopbackOnly: configuration.isLoopback))
    let control = AccessControl(tokens: configuration.tokens)
    let root = Routes(router: router, prefix: "", control: control)
    let api = Routes(router: router, prefix: "/api/v1", control: control)
    let registry = PrometheusCollectorRegistry()
    _ = EngineMetrics(engine: engine, registry: registry)
    let readyDepth = registry.makeGauge(descriptor: .named("novacron_ready_queue_depth", "Steps ready and waiting for a slot"))
    let openStreams = registry.makeGauge(descriptor: .named("novacron_event_streams_open", "Event streams (SSE) open now"))
    let gate = StreamGate(limits: configuration.streamLimits)
    root.get("metrics", .role(.viewer)) { _, _ in
        readyDepth.set(Double(await engine.readyQueueDepth()))
        openStreams.set(Double(gate.openCount))
        return registry.response()
    }
    root.get("healthz", .open) { _, _ in "ok" }
    let readiness = Readiness()
    root.get("readyz", .open) { _, _ -> String in
        guard readiness.isRecovered else { throw Problem(.serviceUnavailable, "recovering the executions a previous process left unfinished") }
        guard await !engine.isDraining else { throw Problem(.serviceUnavailable, "shutting down: no new executions start") }
        guard engine.isStoreReachable else { throw Problem(.serviceUnavailable, "the database cannot be reached; retrying") }
        return "ok"
    }
    let scheduler = TriggerScheduler(engine: engine, store: store, time: time)
    let bus = EventBus(store: store ?? InMemoryStore(time: time), time: time)
    let outbound = OutboundWebhooks(bus: bus, secrets: engine.secrets, time: time)
    let metricWatcher = MetricWatcher(scheduler: scheduler, defaultURL: configuration.prometheusURL, time: time)
    publishLifecycle(of: engine, to: bus)
    EventController(bus: bus, outbound: outbound, control: control, gate: gate).addRoutes(to: api)
    APIController(engine: engine, store: store, scheduler: scheduler, control: control, gate: gate, definitionLimit: configuration.maxDefinitionBytes)
        .addRoutes(to: api)
    WebhookController(engine: engine, store: store, scheduler: scheduler, time: time).addRoutes(to: api)
    LearningController(engine: engine, scheduler: scheduler, control: control).addRoutes(to: api)
    addWebUI(to: root)
    func amount(_ d: Duration) -> TimeAmount {
        .nanoseconds(min(d.components.seconds, 86_400) * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }
    let idle = amount(configuration.idleTimeout), headLimit = amount(configuration.headerTimeout)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [RequestHeadDeadline(limit: headLimit, next: idle)], idleTimeout: idle)),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "novacron",
            availableConnectionsDelegate: MaximumAvailableConnections(max(1, configuration.maxConnections))),
        // The engine's logger, when it has one, logs the server's own events (start, stop) too.
        logger: engine.logger)
    // Graceful shutdown goes in reverse: the HTTP server, then the optimizer, metric watcher, event
    // triggers and schedules (nothing new starts), then the engine drains, then outbound webhooks
    // and the event bus, which carry what the drain publishes; the trace export last of all.
    if let traceExport { app.addServices(traceExport) }
    app.addServices(
        BackgroundService("event bus") { await bus.run() },
        outbound,
        EngineService(
            engine: engine, drainGrace: configuration.drainGrace, readiness: readiness, secondSignalEndsDrain: configuration.secondSignalEndsDrain),
        BackgroundService("schedules", after: readiness) { await scheduler.run() },
        BackgroundService("event triggers", after: readiness) { await scheduler.runEventTriggers(bus: bus) },
        BackgroundService("metric triggers", after: readiness) { await metricWatcher.run() },
        BackgroundService("optimizer", after: readiness) {
            if engine.learning?.configuration.enableAutoOptimization == true { await AutoOptimizer(engine: engine).run() }
        })
    if let retention = configuration.retention, let store {
        app.addServices(BackgroundService("retention", after: readiness) { await retention.run(store, time: time, logger: engine.logger) })
    }
    return app
}

/// The web UI: `/` and `/ui/{file}`, plain HTML, CSS and JavaScript built into the binary
/// (Sources/OrchestrationServer/Web, embedded at build time by the EmbedFiles plugin). The page carries no data; what
/// it shows comes from the API with the token the user gives it.
func addWebUI<Context: RequestContext>(to routes: Routes<Context>) {
    @Sendable func serve(_ name: String) throws -> Response {
        guard let file = WebAssets.files[name] else { throw Problem(.notFound, "no file '\(name)' in the web UI") }
        return Response(
            status: .ok,
            headers: [
                .contentType: file.contentType, .cacheControl: "no-cache",
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: file.text)))
    }
    routes.get("", .open) { _, _ in try serve("index.html") }
    routes.get("ui/:file", .open) { _, context in try serve(try context.parameters.require("file")) }
}

/// Puts the engine's lifecycle on the bus (`execution.started`, `step.failed`, …), source `engine`.
func publishLifecycle(of engine: WorkflowEngine, to bus: EventBus) {
    let workflows = Mutex<[String: String]>([:])
    engine.observe { event in
        if case .executionStarted(let id, let workflowID, _) = event { workflows.withLock { $0[id] = workflowID } }
        let mapped = EventBus.lifecycle(event) { id in workflows.withLock { $0[id] } }
        if case .executionFinished(let e) = event { _ = workflows.withLock { $0.removeValue(forKey: e.id) } }
        if let mapped { bus.post(mapped.type, data: mapped.data, source: "engine") }
    }
}
