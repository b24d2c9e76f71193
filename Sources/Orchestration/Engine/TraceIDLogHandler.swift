import Logging

/// Adds `trace_id` to every line the engine's logger writes about an execution (one with an
/// `execution` in its metadata) that the engine traces: not only the lifecycle lines, but
/// recovery, hand-overs, commands and triggers too, so a log search by trace finds them all.
struct TraceIDLogHandler: LogHandler {
    var base: any LogHandler
    let traceID: @Sendable (String) -> String?

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        var metadata = explicit
        if explicit?["trace_id"] == nil, base.metadata["trace_id"] == nil,
            let execution = explicit?["execution"] ?? base.metadata["execution"], let id = traceID(execution.description)
        {
            metadata = (explicit ?? [:]).merging(["trace_id": "\(id)"]) { own, _ in own }
        }
        base.log(level: level, message: message, metadata: metadata, source: source, file: file, function: function, line: line)
    }
}

extension Logger {
    /// This logger, its lines about a traced execution carrying `trace_id`.
    func namingTraces(_ traceID: @escaping @Sendable (String) -> String?) -> Logger {
        var logger = Logger(label: label, factory: { [handler] _ in TraceIDLogHandler(base: handler, traceID: traceID) })
        logger.logLevel = logLevel
        return logger
    }
}
