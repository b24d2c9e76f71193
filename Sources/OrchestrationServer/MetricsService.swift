import Foundation
import Hummingbird
import NIOCore
import Orchestration
import Prometheus

/// Prometheus metrics of the engine, counted from its lifecycle events as they happen and
/// served at `/metrics`:
///
/// - `novacron_executions_started_total{workflow}`, `novacron_executions_finished_total{workflow,status}`
/// - `novacron_executions_running`
/// - `novacron_step_duration_seconds{status}` (histogram), `novacron_step_retries_total`
/// - `novacron_scheduling_latency_seconds` (histogram), `novacron_ready_queue_depth` (at scrape time)
struct EngineMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let running: Gauge
    let retries: Counter
    static let latencyBuckets: [Duration] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5].map { .microseconds(Int64($0 * 1e6)) }
    static let buckets: [Duration] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800].map { .milliseconds(Int64($0 * 1000)) }

    /// Starts counting the engine's events into `registry`.
    init(engine: WorkflowEngine, registry: PrometheusCollectorRegistry) {
        self.registry = registry
        running = registry.makeGauge(name: "novacron_executions_running", help: "Executions started and not yet ended")
        retries = registry.makeCounter(name: "novacron_step_retries_total", help: "Retries scheduled after a failed attempt")
        let metrics = self
        engine.observe { metrics.record($0) }
    }

    func record(_ event: ExecutionEvent) {
        switch event {
        case .executionStarted(_, let workflowID, _):
            registry.makeCounter(name: "novacron_executions_started_total", labels: [("workflow", workflowID)], help: "Executions started").increment()
            running.increment(by: 1)
        case .executionFinished(let e):
            registry.makeCounter(
                name: "novacron_executions_finished_total", labels: [("workflow", e.workflowID), ("status", e.status.rawValue)],
                help: "Executions ended, by status").increment()
            running.decrement(by: 1)
        case .stepFinished(_, let result, _) where result.startedAt != nil:
            registry.makeDurationHistogram(
                name: "novacron_step_duration_seconds", labels: [("status", result.status.rawValue)], buckets: Self.buckets,
                help: "Step durations from first start to end, by status").record(result.duration)
        case .stepRetrying:
            retries.increment()
        case .stepScheduled(_, _, let latency):
            registry.makeDurationHistogram(
                name: "novacron_scheduling_latency_seconds", labels: [], buckets: Self.latencyBuckets,
                help: "From a step becoming ready to its executor starting").record(latency)
        default:
            break
        }
    }
}

extension PrometheusCollectorRegistry {
    /// The text exposition format.
    func response() -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: emitToBuffer())))
    }
}
