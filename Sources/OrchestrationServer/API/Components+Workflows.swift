import Foundation
import Orchestration
import OrchestrationAPI

extension Components.Schemas.WorkflowSummary {
    init(_ w: Workflow) {
        self.init(
            id: w.id, name: w.name, description: w.description, version: w.version, stepCount: w.steps.count,
            optimizationScore: w.optimizationScore)
    }
}

extension Components.Schemas.WorkflowDetail {
    init(_ w: Workflow) {
        self.init(
            value1: .init(w),
            value2: .init(
                steps: w.steps.map { step in
                    .init(
                        id: step.id, _type: step.type.rawValue, action: step.action, condition: step.condition,
                        timeout: step.timeout.map(DurationText.format), dependencies: step.dependencies, parallel: step.parallel)
                }))
    }
}

extension Components.Schemas.Trigger {
    /// A trigger with its state.
    init(_ s: TriggerScheduler.Status) {
        let schedule = s.trigger.effectiveSchedule
        self.init(
            workflowID: s.workflowID, id: s.trigger.id, _type: .init(rawValue: s.trigger.type.rawValue) ?? .manual, source: s.trigger.source,
            schedule: schedule, timezone: schedule == nil ? nil : s.trigger.effectiveTimezone, event: s.trigger.event, enabled: s.enabled,
            fireCount: s.state.fireCount, lastFiredAt: s.state.lastFiredAt, nextFireAt: s.nextFireAt, lastError: s.state.lastError,
            lastErrorAt: s.state.lastErrorAt)
    }
}

extension Components.Schemas.Role {
    init(_ role: Role) {
        switch role {
        case .viewer: self = .viewer
        case .operator: self = ._operator
        case .admin: self = .admin
        }
    }
}
