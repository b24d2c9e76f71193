import Foundation

extension Workflow {
    /// The definition in the workflow file format (docs/workflow-files.md), as JSON: durations as
    /// text (`5m`), defaults left out. Decoding it gives this workflow back. JSON Patches of the
    /// learning engine's suggestions are paths into this document.
    package var document: JSONValue {
        var o: [String: JSONValue] = ["id": .string(id), "name": .string(name)]
        o["description"] = description.map(JSONValue.string)
        o["version"] = version.map(JSONValue.string)
        o["timeout"] = timeout.map(Self.text)
        o["maxParallelism"] = maxParallelism.map { .number(Double($0)) }
        if !variables.isEmpty { o["variables"] = .object(variables) }
        o["retryPolicy"] = retryPolicy.map(Self.document)
        if failFast { o["failFast"] = true }
        o["steps"] = .array(steps.map(Self.document))
        if !triggers.isEmpty { o["triggers"] = .array(triggers.map(Self.document)) }
        if let outputs, !outputs.isEmpty { o["outputs"] = .object(outputs) }
        o["concurrency"] = concurrency.map(Self.document)
        return .object(o)
    }

    static func text(_ duration: Duration) -> JSONValue { .string(DurationText.format(duration)) }

    static func document(_ c: ConcurrencyPolicy) -> JSONValue {
        ["key": .string(c.key), "limit": .number(Double(c.limit)), "onConflict": .string(c.onConflict.rawValue)]
    }

    static func document(_ step: WorkflowStep) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(step.id)]
        o["name"] = step.name.map(JSONValue.string)
        o["description"] = step.description.map(JSONValue.string)
        if step.type != .task { o["type"] = .string(step.type.rawValue) }
        o["action"] = step.action.map(JSONValue.string)
        if !step.inputs.isEmpty { o["inputs"] = .object(step.inputs) }
        if !step.dependencies.isEmpty { o["dependencies"] = .array(step.dependencies.map(JSONValue.string)) }
        o["condition"] = step.condition.map(JSONValue.string)
        o["timeout"] = step.timeout.map(text)
        o["retryPolicy"] = step.retryPolicy.map(document)
        if !step.parallel { o["parallel"] = false }
        if step.continueOnFailure { o["continueOnFailure"] = true }
        if let cache = step.cache { o["cache"] = ["enabled": .bool(cache.enabled), "ttl": text(cache.ttl)] }
        if step.idempotent { o["idempotent"] = true }
        o["estimatedDuration"] = step.estimatedDuration.map(text)
        o["queue"] = step.queue.map(JSONValue.string)
        o["forEach"] = step.forEach
        o["maxConcurrency"] = step.maxConcurrency.map { .number(Double($0)) }
        o["toleratedFailures"] = step.toleratedFailures.map { .number(Double($0)) }
        o["toleratedFailurePercentage"] = step.toleratedFailurePercentage.map(JSONValue.number)
        o["workflow"] = step.workflow.map(JSONValue.string)
        o["version"] = step.workflowVersion.map(JSONValue.string)
        o["onTimeout"] = step.onTimeout.map(JSONValue.string)
        o["concurrency"] = step.concurrency.map(document)
        if let body = step.rollback {
            var b: [String: JSONValue] = [:]
            if body.type != .task { b["type"] = .string(body.type.rawValue) }
            b["action"] = body.action.map(JSONValue.string)
            if !body.inputs.isEmpty { b["inputs"] = .object(body.inputs) }
            b["timeout"] = body.timeout.map(text)
            b["retryPolicy"] = body.retryPolicy.map(document)
            o["rollback"] = .object(b)
        }
        if !step.outputs.isEmpty { o["outputs"] = .array(step.outputs.map(JSONValue.string)) }
        return .object(o)
    }

    static func document(_ policy: RetryPolicy) -> JSONValue {
        [
            "maxAttempts": .number(Double(policy.maxAttempts)), "backoffStrategy": .string(policy.backoffStrategy.rawValue),
            "initialDelay": text(policy.initialDelay), "maxDelay": text(policy.maxDelay), "multiplier": .number(policy.multiplier),
            "jitter": .string(policy.jitter.rawValue), "retryOn": .array(policy.retryOn.map(\.rawValue).sorted().map(JSONValue.string)),
        ]
    }

    static func document(_ trigger: WorkflowTrigger) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(trigger.id), "type": .string(trigger.type.rawValue)]
        o["source"] = trigger.source.map(JSONValue.string)
        if !trigger.conditions.isEmpty { o["conditions"] = .object(trigger.conditions) }
        if !trigger.enabled { o["enabled"] = false }
        o["schedule"] = trigger.schedule.map(JSONValue.string)
        o["timezone"] = trigger.timezone.map(JSONValue.string)
        o["missedTicks"] = trigger.missedTicks.map { .string($0.rawValue) }
        o["jitter"] = trigger.jitter.map(text)
        o["secret"] = trigger.secret.map(JSONValue.string)
        o["event"] = trigger.event.map(JSONValue.string)
        if !trigger.inputs.isEmpty { o["inputs"] = .object(trigger.inputs) }
        return .object(o)
    }
}
