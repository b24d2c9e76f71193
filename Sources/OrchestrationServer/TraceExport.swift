import Foundation
import Logging
import OTel
import Orchestration
import ServiceLifecycle
import Tracing

/// Where executions go as traces: OTLP over HTTP (swift-otel) to a collector, Jaeger, Tempo or
/// anything else that takes OTLP (docs/observability.md). Off unless asked for, and then nothing
/// is made: no tracer, no exporter, no spans.
///
/// The standard variables decide, as in every OpenTelemetry SDK: `OTEL_TRACES_EXPORTER` (`otlp`
/// or `none`), `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`), `OTEL_EXPORTER_OTLP_PROTOCOL`
/// (`http/protobuf`, the only one offered), `OTEL_SERVICE_NAME`, `OTEL_SDK_DISABLED`; the
/// serve settings (`tracesEndpoint`, `tracesProtocol`, `serviceName`) are what the variables
/// override. Tracing is on when an endpoint is given or the exporter is `otlp`.
///
/// ```swift
/// if let export = try TraceExport.resolve(environment: ProcessInfo.processInfo.environment) {
///     let (tracer, service) = try export.makeBackend(logger: logger)
/// }
/// ```
public struct TraceExport: Sendable, Hashable {
    /// The URL spans are posted to (`…/v1/traces`).
    public var tracesURL: String
    public var wireProtocol: WireProtocol
    public var serviceName: String

    /// `http/json` is refused: swift-otel 1.6 writes its trace and span ids in base64, where
    /// OTLP/JSON wants hex, and collectors answer 400 (the test's decoder caught it).
    public enum WireProtocol: String, Sendable, Hashable {
        case httpProtobuf = "http/protobuf"
    }

    /// What the variables and settings ask for; `nil` when tracing is off. Throws on what cannot
    /// be honoured (an exporter other than OTLP, OTLP over gRPC, an endpoint that is not a URL).
    public static func resolve(
        environment: [String: String], endpoint: String? = nil, wireProtocol: String? = nil, serviceName: String? = nil
    ) throws(EngineError) -> TraceExport? {
        func value(_ key: String) -> String? { environment[key] }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" { return nil }
        try checkEnvironment(environment)
        let exporter = value("OTEL_TRACES_EXPORTER")?.lowercased()
        switch exporter {
        case "none"?: return nil
        case nil, "otlp"?: break
        case let other?:
            throw EngineError(
                .invalidInput, "OTEL_TRACES_EXPORTER: '\(other)' is not supported; novacron exports traces over OTLP (otlp) or not at all (none)")
        }
        let url: String
        if let specific = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            url = try Self.checkURL(specific, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        } else if let shared = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            url = Self.traces(at: try Self.checkURL(shared, "OTEL_EXPORTER_OTLP_ENDPOINT"))
        } else if let endpoint, !endpoint.isEmpty, endpoint.trimmingCharacters(in: .whitespaces) == endpoint {
            url = Self.traces(at: try Self.checkURL(endpoint, "tracesEndpoint"))
        } else if exporter == "otlp" {
            url = "http://localhost:4318/v1/traces"
        } else {
            return nil
        }
        let protocolText = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? value("OTEL_EXPORTER_OTLP_PROTOCOL") ?? wireProtocol ?? "http/protobuf"
        guard let parsed = WireProtocol(rawValue: protocolText.lowercased()) else {
            switch protocolText.lowercased() {
            case "grpc":
                throw EngineError(
                    .invalidInput,
                    "OTLP over gRPC is not built into novacron: use http/protobuf (a collector's port 4318) for OTEL_EXPORTER_OTLP_PROTOCOL")
            case "http/json":
                throw EngineError(
                    .invalidInput,
                    "OTEL_EXPORTER_OTLP_PROTOCOL: http/json is not offered (the exporter writes span ids in base64 where OTLP/JSON wants hex, and collectors refuse them): use http/protobuf"
                )
            default:
                throw EngineError(.invalidInput, "OTEL_EXPORTER_OTLP_PROTOCOL: '\(protocolText)' is not http/protobuf")
            }
        }
        let name = value("OTEL_SERVICE_NAME") ?? serviceName.flatMap { $0.isEmpty ? nil : $0 } ?? "novacron"
        return TraceExport(tracesURL: url, wireProtocol: parsed, serviceName: name)
    }

    /// The tracer to give the engine, and the service that sends what it records: run it beside
    /// the engine and stop it after, so its last spans are sent (it flushes on graceful shutdown).
    public func makeBackend(logger: Logger) throws -> (tracer: any Tracer, service: any Service) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = tracesURL
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // swift-otel's own messages, without their metadata: it logs the environment values it
        // reads, OTEL_EXPORTER_OTLP_HEADERS (a collector's API key) among them.
        configuration.diagnosticLogger = .custom(Logger(label: "novacron.otel") { _ in WithoutMetadata(inner: logger.handler) })
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }

    /// What swift-otel reads from the environment by itself, checked first: values it would
    /// stop the process on, spin on, or read differently from us are refused here, saying why.
    static func checkEnvironment(_ environment: [String: String]) throws(EngineError) {
        for (key, value) in environment where key.hasPrefix("OTEL_") {
            // swift-otel reads values as they are: an empty or padded one would not mean what it looks like.
            if value.isEmpty || value.trimmingCharacters(in: .whitespaces) != value {
                throw EngineError(.invalidInput, "\(key) is set to '\(value)': give it a value without spaces around it, or unset it")
            }
        }
        if let propagators = environment["OTEL_PROPAGATORS"], propagators != "tracecontext" {
            throw EngineError(
                .invalidInput,
                "OTEL_PROPAGATORS: '\(propagators)' is not supported: novacron carries trace context as W3C traceparent only (tracecontext); swift-otel 1.6 stops the process on baggage, b3, b3multi, jaeger, xray and ottrace"
            )
        }
        let samplers = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]
        if let sampler = environment["OTEL_TRACES_SAMPLER"], !samplers.contains(sampler) {
            throw EngineError(.invalidInput, "OTEL_TRACES_SAMPLER: '\(sampler)' is not one of \(samplers.joined(separator: ", "))")
        }
        for key in ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_EXPORT_TIMEOUT"] {
            if let text = environment[key], !(Int(text).map { $0 >= 1 } ?? false) {
                throw EngineError(.invalidInput, "\(key): '\(text)' is not a whole number of at least 1")
            }
        }
    }

    /// `base` with `/v1/traces`, as the OTLP specification appends it to a shared endpoint.
    static func traces(at base: String) -> String {
        base.hasSuffix("/") ? base + "v1/traces" : base + "/v1/traces"
    }

    static func checkURL(_ text: String, _ name: String) throws(EngineError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host?.isEmpty == false
        else {
            throw EngineError(.invalidInput, "\(name): '\(text)' is not an http:// or https:// URL")
        }
        return text
    }
}

/// A log handler that passes messages on without any metadata.
struct WithoutMetadata: LogHandler {
    var inner: any LogHandler

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        inner.log(level: level, message: message, metadata: nil, source: source, file: file, function: function, line: line)
    }
}
