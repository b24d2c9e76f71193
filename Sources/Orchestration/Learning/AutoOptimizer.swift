import Foundation

/// Auto-optimization (`OptimizationConfig.enableAutoOptimization`): after each finished
/// execution, applies the most confident safe suggestion at or above `minConfidence` as a new
/// workflow version — one at a time — and judges it once the new version has run
/// ``judgedAfter`` times against the version before it:
/// - success rate: one-sided two-proportion z-test, worse at p < 0.05;
/// - duration of successful executions: Mann–Whitney U, worse at p < 0.01 with a median at least
///   10% longer.
/// Worse on either: the previous version is registered again and the reversion recorded (that
/// suggestion is not applied again). Otherwise the change is recorded as kept, and the next
/// suggestion may be applied. Changes to estimates alone are kept at once: they change the plan,
/// not what runs. The comparison is before/after in time, so something else that changes at the
/// same moment (a dependency that got slower) is blamed on the change; a reversion says why.
public actor AutoOptimizer {
    let engine: WorkflowEngine
    let learning: LearningEngine
    /// Definitions replaced by an applied suggestion, by version (a store keeps them too).
    var replaced: [String: Workflow] = [:]
    /// Executions of an applied version before it is judged.
    public let judgedAfter: Int

    public init(engine: WorkflowEngine, judgedAfter: Int = 20) {
        self.engine = engine
        self.learning = engine.learning ?? LearningEngine()
        self.judgedAfter = judgedAfter
    }

    /// Considers a workflow after every ``considerEvery`` of its executions finish, until cancelled
    /// (suggestions validate and plan the workflow: not work for every execution).
    public func run() async {
        guard learning.configuration.enableAutoOptimization else { return }
        var finished: [String: Int] = [:]
        for await event in engine.events() {
            guard case .executionFinished(let execution) = event else { continue }
            finished[execution.workflowID, default: 0] += 1
            guard finished[execution.workflowID, default: 0] % Self.considerEvery == 0 else { continue }
            _ = try? await consider(execution.workflowID)
        }
    }

    /// Finished executions of a workflow between two considerations.
    public static let considerEvery = 5

    /// Judges the pending change of `workflowID`, or applies the next suggestion; returns what it
    /// recorded (nothing when auto-optimization is off, a change waits for executions, or no
    /// suggestion qualifies).
    @discardableResult
    public func consider(_ workflowID: String) async throws -> [OptimizationRecord] {
        guard learning.configuration.enableAutoOptimization, let current = await engine.workflow(workflowID) else { return [] }
        let records = try await learning.audit(workflowID: workflowID)
        guard let statistics = await learning.statistics(workflowID: workflowID) else { return [] }
        if let last = records.last, last.action == .applied {
            return try await judge(last, current: current, statistics: statistics)
        }
        let reverted = Set(records.filter { $0.action == .reverted }.map(\.suggestionID))
        let candidates = await learning.suggestions(for: current).filter {
            $0.safe && $0.confidence >= learning.configuration.minConfidence && !reverted.contains($0.id)
        }
        guard let best = candidates.max(by: { ($0.confidence, $1.id) < ($1.confidence, $0.id) }) else { return [] }
        replaced[try current.contentHash()] = current
        return [try await engine.apply(best, to: current, by: "learning-engine")]
    }

    func judge(_ applied: OptimizationRecord, current: Workflow, statistics: WorkflowStatistics) async throws -> [OptimizationRecord] {
        let now = engine.time.now()
        if Self.planningOnly.contains(applied.kind) {
            // Estimates change the plan, not what runs: nothing to judge, and what happens to the
            // workflow meanwhile (the slowdown that prompted it) is not its doing.
            let record = OptimizationRecord(
                workflowID: applied.workflowID, action: .kept, suggestionID: applied.suggestionID, kind: applied.kind, by: "learning-engine",
                reason: "changes only the estimate the plan uses", confidence: applied.confidence,
                beforeVersion: applied.beforeVersion, afterVersion: applied.afterVersion, patch: [], evidence: [:], at: now)
            try await learning.appendAudit(record)
            return [record]
        }
        guard let after = statistics.versions[applied.afterVersion], after.executions >= judgedAfter,
            let before = statistics.versions[applied.beforeVersion]
        else { return [] }
        let verdict = Self.compare(before: before, after: after)
        if let worse = verdict {
            let previous: Workflow
            if let kept = replaced[applied.beforeVersion] {
                previous = kept
            } else if let stored = try await engine.store?.workflow(id: applied.workflowID, version: applied.beforeVersion) {
                previous = stored
            } else {
                return []
            }
            try await engine.registerWorkflow(previous)
            let record = OptimizationRecord(
                workflowID: applied.workflowID, action: .reverted, suggestionID: applied.suggestionID, kind: applied.kind, by: "learning-engine",
                reason: worse, confidence: applied.confidence, beforeVersion: applied.afterVersion, afterVersion: applied.beforeVersion,
                patch: [], evidence: Self.evidence(before: before, after: after), at: now)
            try await learning.appendAudit(record)
            return [record]
        }
        let record = OptimizationRecord(
            workflowID: applied.workflowID, action: .kept, suggestionID: applied.suggestionID, kind: applied.kind, by: "learning-engine",
            reason: "after \(after.executions) executions the new version does not do significantly worse", confidence: applied.confidence,
            beforeVersion: applied.beforeVersion, afterVersion: applied.afterVersion, patch: [],
            evidence: Self.evidence(before: before, after: after), at: now)
        try await learning.appendAudit(record)
        return [record]
    }

    /// Kinds that change only estimates.
    static let planningOnly: Set<Suggestion.Kind> = [.setEstimate, .durationRegression]

    /// Why `after` is significantly worse than `before`, or `nil`.
    package static func compare(before: VersionStatistics, after: VersionStatistics) -> String? {
        let n1 = Double(before.executions), n2 = Double(after.executions)
        if n1 > 0, n2 > 0 {
            let p1 = Double(before.successes) / n1, p2 = Double(after.successes) / n2
            let pooled = Double(before.successes + after.successes) / (n1 + n2)
            let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
            if se > 0 {
                let p = Statistics.normalCDF((p2 - p1) / se)
                if p < 0.05 {
                    return String(
                        format: "the success rate fell from %.0f%% to %.0f%% over %d executions (one-sided p = %.3g)", p1 * 100, p2 * 100,
                        after.executions, p)
                }
            }
        }
        let a = before.durations.values, b = after.durations.values
        if a.count >= 5, b.count >= 5 {
            let p = Statistics.mannWhitneyGreater(later: b, earlier: a)
            let m1 = Statistics.quantile(a.sorted(), 0.5), m2 = Statistics.quantile(b.sorted(), 0.5)
            if p < 0.01, m1 > 0, m2 / m1 >= 1.1 {
                return String(format: "executions got slower: median %.1fs → %.1fs (Mann–Whitney p = %.3g)", m1, m2, p)
            }
        }
        return nil
    }

    static func evidence(before: VersionStatistics, after: VersionStatistics) -> [String: JSONValue] {
        [
            "executionsBefore": .number(Double(before.executions)), "successesBefore": .number(Double(before.successes)),
            "executionsAfter": .number(Double(after.executions)), "successesAfter": .number(Double(after.successes)),
            "medianSecondsBefore": .number(Statistics.quantile(before.durations.values.sorted(), 0.5)),
            "medianSecondsAfter": .number(Statistics.quantile(after.durations.values.sorted(), 0.5)),
        ]
    }
}
