import Foundation
import Hummingbird
import NIOCore
import Orchestration
import Prometheus

/// Prometheus metrics of the engine, counted from its lifecycle events as they happen and
/// served at `/metrics`:
///
/// - `novacron_executions_started_total{workflow}`, `novacron_executions_finished_total{workflow,status}`
///   (per workflow, `status="completed"` counts successes and `status="failed"` failures)
/// - `novacron_execution_duration_seconds{workflow,status}` (histogram, start to end)
/// - `novacron_executions_running`
/// - `novacron_step_duration_seconds{status}` (histogram), `novacron_step_retries_total`
/// - `novacron_scheduling_latency_seconds` (histogram), `novacron_ready_queue_depth` (at scrape time)
struct EngineMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let running: Gauge
    let retries: Counter
    static let latencyBuckets: [Duration] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5].map { .microseconds(Int64($0 * 1e6)) }
    static let buckets: [Duration] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800].map { .milliseconds(Int64($0 * 1000)) }
    /// Executions run from seconds to hours.
    static let executionBuckets: [Duration] = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600].map { .milliseconds(Int64($0 * 1000)) }

    /// Starts counting the engine's events into `registry`.
    init(engine: WorkflowEngine, registry: PrometheusCollectorRegistry) {
        self.registry = registry
        running = registry.makeGauge(descriptor: .named("novacron_executions_running", "Executions started and not yet ended"))
        retries = registry.makeCounter(descriptor: .named("novacron_step_retries_total", "Retries scheduled after a failed attempt"))
        let metrics = self
        engine.observe { metrics.record($0) }
    }

    func record(_ event: ExecutionEvent) {
        switch event {
        case .executionStarted(_, let workflowID, _):
            registry.makeCounter(descriptor: .named("novacron_executions_started_total", "Executions started"), labels: [("workflow", workflowID)])
                .increment()
            running.increment(by: 1)
        case .executionFinished(let e):
            registry.makeCounter(
                descriptor: .named("novacron_executions_finished_total", "Executions ended, by status"),
                labels: [("workflow", e.workflowID), ("status", e.status.rawValue)]
            ).increment()
            if let start = e.startedAt, let end = e.finishedAt {
                registry.makeDurationHistogram(
                    descriptor: .named("novacron_execution_duration_seconds", "Execution durations from start to end, by workflow and status"),
                    labels: [("workflow", e.workflowID), ("status", e.status.rawValue)], buckets: Self.executionBuckets
                )
                .record(.clamped(seconds: max(0, end.timeIntervalSince(start))))
            }
            running.decrement(by: 1)
        case .stepFinished(_, let result, _) where result.startedAt != nil:
            registry.makeDurationHistogram(
                descriptor: .named("novacron_step_duration_seconds", "Step durations from first start to end, by status"),
                labels: [("status", result.status.rawValue)], buckets: Self.buckets
            ).record(result.duration)
        case .stepRetrying:
            retries.increment()
        case .stepScheduled(_, _, let latency):
            registry.makeDurationHistogram(
                descriptor: .named("novacron_scheduling_latency_seconds", "From a step becoming ready to its executor starting"),
                buckets: Self.latencyBuckets
            ).record(latency)
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

extension MetricNameDescriptor {
    /// A metric whose whole name is `name`.
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
