import Foundation

/// A store that keeps everything in this process: for tests, `--memory`, and embedding without
/// durability.
public actor InMemoryExecutionStore: ExecutionStore {
    var workflows: [String: Workflow] = [:]
    var records: [String: ExecutionRecord] = [:]
    var order: [String] = []
    var attemptLog: [String: [AttemptRecord]] = [:]
    var logs: [String: String] = [:]

    public init() {}

    public func saveWorkflow(_ workflow: Workflow) throws -> String {
        let hash = try workflow.contentHash()
        workflows["\(workflow.id)@\(hash)"] = workflow
        return hash
    }

    public func workflow(id: String, version: String) -> Workflow? {
        workflows["\(id)@\(version)"]
    }

    public func createExecution(_ record: ExecutionRecord) throws {
        guard records[record.execution.id] == nil else {
            throw StoreError("execution \(record.execution.id) already exists")
        }
        records[record.execution.id] = record
        order.append(record.execution.id)
    }

    public func updateExecution(_ record: ExecutionRecord) throws {
        guard var existing = records[record.execution.id] else { throw StoreError("no execution \(record.execution.id)") }
        let results = existing.execution.stepResults
        existing = record
        existing.execution.stepResults = results
        records[record.execution.id] = existing
    }

    public func attemptStarted(_ attempt: AttemptRecord) throws {
        guard records[attempt.executionID] != nil else { throw StoreError("no execution \(attempt.executionID)") }
        attemptLog[attempt.executionID, default: []].append(attempt)
    }

    public func attemptFinished(_ attempt: AttemptRecord) throws {
        replace(attempt)
    }

    public func stepFinished(executionID: String, result: StepResult, attempt: AttemptRecord?, log: String) throws {
        guard records[executionID] != nil else { throw StoreError("no execution \(executionID)") }
        records[executionID]?.execution.stepResults[result.stepID] = result
        if let attempt { replace(attempt) }
        logs["\(executionID)/\(result.stepID)"] = log
    }

    func replace(_ attempt: AttemptRecord) {
        var list = attemptLog[attempt.executionID, default: []]
        if let i = list.lastIndex(where: { $0.stepID == attempt.stepID && $0.attempt == attempt.attempt }) {
            list[i] = attempt
        } else {
            list.append(attempt)
        }
        attemptLog[attempt.executionID] = list
    }

    public func execution(id: String) -> ExecutionRecord? { records[id] }

    public func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) -> [ExecutionRecord] {
        var out: [ExecutionRecord] = []
        for id in order.reversed() where out.count < limit {
            guard var r = records[id] else { continue }
            if let workflowID, r.execution.workflowID != workflowID { continue }
            if let status, r.execution.status != status { continue }
            r.execution.stepResults = [:]
            out.append(r)
        }
        return out
    }

    public func unfinishedExecutions() -> [ExecutionRecord] {
        order.compactMap { records[$0] }.filter { !$0.execution.status.isTerminal }
    }

    public func attempts(executionID: String, stepID: String?) -> [AttemptRecord] {
        (attemptLog[executionID] ?? []).filter { stepID == nil || $0.stepID == stepID }
    }

    public func log(executionID: String, stepID: String) -> String? {
        logs["\(executionID)/\(stepID)"]
    }

    public func interruptAttempts(executionID: String, at date: Date) -> [AttemptRecord] {
        var list = attemptLog[executionID] ?? []
        var interrupted: [AttemptRecord] = []
        for i in list.indices where list[i].status == .running {
            list[i].status = .interrupted
            list[i].finishedAt = date
            list[i].error = "interrupted: the process running it stopped"
            interrupted.append(list[i])
        }
        attemptLog[executionID] = list
        return interrupted
    }
}
