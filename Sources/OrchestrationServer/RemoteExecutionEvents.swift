import Foundation
import Orchestration

/// The lifecycle events of an execution another node runs, read from the shared store: every
/// `interval` it reads the execution and its attempts and sends what changed since the last look
/// (attempts started, steps finished, paused or resumed, the end), so `/executions/{id}/events`
/// shows live status whichever node the client asked. Ends after `executionFinished`, or when the
/// execution is gone.
enum RemoteExecutionEvents {
    static func stream(
        _ id: String, store: any ExecutionStore, seen record: ExecutionRecord, interval: Duration = .milliseconds(250)
    ) -> AsyncStream<ExecutionEvent> {
        AsyncStream { continuation in
            let task = Task {
                var last = Snapshot(record: record, attempts: (try? await store.attempts(executionID: id, stepID: nil)) ?? [])
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    let found: ExecutionRecord?
                    do { found = try await store.execution(id: id) } catch { continue }  // the store is away: look again
                    guard let record = found else { break }  // deleted
                    let now = Snapshot(record: record, attempts: (try? await store.attempts(executionID: id, stepID: nil)) ?? [])
                    for event in now.events(since: last) { continuation.yield(event) }
                    last = now
                    if record.execution.status.isTerminal { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// What one look at the store saw.
    struct Snapshot {
        var execution: WorkflowExecution
        var attempts: Set<String>
        var started: [AttemptRecord]

        init(record: ExecutionRecord, attempts: [AttemptRecord]) {
            execution = record.execution
            started = attempts
            self.attempts = Set(attempts.map { "\($0.stepID)#\($0.attempt)" })
        }

        func events(since before: Snapshot) -> [ExecutionEvent] {
            let id = execution.id
            var out: [ExecutionEvent] = []
            for a in started where !before.attempts.contains("\(a.stepID)#\(a.attempt)") {
                out.append(
                    .stepStarted(executionID: id, stepID: a.stepID, attempt: a.attempt, at: a.startedAt, queueWait: nil, inputFingerprint: nil))
            }
            let finished = execution.stepResults.values.filter { $0.status.isTerminal && before.execution.stepResults[$0.stepID] != $0 }
            for r in finished.sorted(by: { ($0.finishedAt ?? .distantFuture, $0.stepID) < ($1.finishedAt ?? .distantFuture, $1.stepID) }) {
                out.append(.stepFinished(executionID: id, result: r, log: ""))
            }
            if execution.status == .paused, before.execution.status != .paused { out.append(.executionPaused(executionID: id, beforeStep: nil)) }
            if execution.status == .running, before.execution.status == .paused { out.append(.executionResumed(executionID: id)) }
            if execution.status.isTerminal { out.append(.executionFinished(execution)) }
            return out
        }
    }
}
