import Foundation
import Logging

/// The engine's lifecycle events as log lines, with metadata to grep for: `execution`,
/// `workflow`, `step`, `attempt`, and `trace_id` when the engine traces. Errors in them were
/// redacted before they were events (secrets never reach them); step output is not logged
/// (`novacron executions logs` has it).
enum EngineLog {
    static func record(_ event: ExecutionEvent, _ logger: Logger, traceID: (@Sendable (String) -> String?)? = nil) {
        var logger = logger
        if let traceID, let id = traceID(event.executionID) { logger[metadataKey: "trace_id"] = "\(id)" }
        switch event {
        case .executionStarted(let id, let workflow, let steps):
            logger.info("execution started", metadata: ["execution": "\(id)", "workflow": "\(workflow)", "steps": "\(steps)"])
        case .stepStarted(let id, let step, let attempt, _, _, _):
            logger.info("step started", metadata: ["execution": "\(id)", "step": "\(step)", "attempt": "\(attempt)"])
        case .attemptFinished:
            break  // the step's end (or retry) says how it went
        case .stepScheduled(let id, let step, let latency):
            logger.trace("step scheduled", metadata: ["execution": "\(id)", "step": "\(step)", "latencySeconds": "\(latency.seconds)"])
        case .stepRetrying(let id, let step, let next, let delay, let error):
            var metadata: Logger.Metadata = ["execution": "\(id)", "step": "\(step)", "attempt": "\(next)", "delay": "\(DurationText.format(delay))"]
            if let error { metadata["error"] = "\(error)" }
            logger.warning("step retrying", metadata: metadata)
        case .stepFinished(let id, let result, _):
            var metadata: Logger.Metadata = [
                "execution": "\(id)", "step": "\(result.stepID)", "status": "\(result.status.rawValue)", "attempts": "\(result.attempts)",
                "durationMs": "\(Int(saturating: (result.duration.seconds * 1000).rounded()))",
            ]
            if let error = result.error { metadata["error"] = "\(error)" }
            if let reason = result.skipReason { metadata["reason"] = "\(reason)" }
            if result.cached { metadata["cached"] = "true" }
            if result.status == .failed {
                logger.error("step failed", metadata: metadata)
            } else {
                logger.info("step \(result.status.rawValue)", metadata: metadata)
            }
        case .executionPaused(let id, let before):
            var metadata: Logger.Metadata = ["execution": "\(id)"]
            if let before { metadata["step"] = "\(before)" }
            logger.info("execution paused", metadata: metadata)
        case .executionResumed(let id):
            logger.info("execution resumed", metadata: ["execution": "\(id)"])
        case .executionFinished(let e):
            var metadata: Logger.Metadata = [
                "execution": "\(e.id)", "workflow": "\(e.workflowID)", "status": "\(e.status.rawValue)",
                "durationMs": "\(Int(saturating: (e.metrics.totalDuration.seconds * 1000).rounded()))",
            ]
            if let error = e.error { metadata["error"] = "\(error)" }
            if e.status == .completed {
                logger.info("execution completed", metadata: metadata)
            } else {
                logger.error("execution \(e.status.rawValue)", metadata: metadata)
            }
        }
    }
}

extension WorkflowEngine {
    /// The engine's logger, or one that logs nothing.
    package nonisolated var logger: Logger {
        configuration.logger ?? Logger(label: "novacron", factory: { _ in SwiftLogNoOpLogHandler() })
    }
}
