import Foundation

extension ExecutionRecord {
    /// The execution's own row (``header``, without step results) as the stores keep it: compact
    /// JSON with sorted keys that `JSONDecoder` reads back to an equal value, written field by
    /// field like ``StepResult/storedJSON()``. Every execution writes it when it starts and when
    /// it ends; through `JSONEncoder` that was about a twentieth of a durable start over the API.
    ///
    /// A record `JSONEncoder` would refuse (a number that is not finite) goes through it, so it
    /// fails the same way.
    package func storedHeaderJSON() throws -> String {
        guard isFinite else { return String(decoding: try StoredJSON.encoder.encode(header), as: UTF8.self) }
        var out = "{\"createdAt\":"
        out.reserveCapacity(512)
        out += StoredJSON.date(createdAt)
        out += ",\"execution\":"
        execution.writeHeaderJSON(into: &out)
        out += ",\"options\":"
        options.writeJSON(into: &out)
        if let owner { StoredJSON.field("owner", owner, into: &out) }
        StoredJSON.field("workflowHash", workflowHash, into: &out)
        out += "}"
        return out
    }

    /// Every number in the header can be written as JSON.
    private var isFinite: Bool {
        let e = execution
        let dates = [createdAt, e.startedAt, e.finishedAt, e.estimatedCompletion].allSatisfy { $0?.timeIntervalSinceReferenceDate.isFinite ?? true }
        return dates && e.metrics.optimizationGains.isFinite && e.inputs.values.allSatisfy(\.isFinite)
            && (e.outputs?.values.allSatisfy(\.isFinite) ?? true) && options.trigger.isFinite
    }
}

extension WorkflowExecution {
    /// This execution without its step results (`"stepResults":{}`), keys sorted, optionals only
    /// when present, as the synthesized `Encodable` writes them.
    fileprivate func writeHeaderJSON(into out: inout String) {
        out += "{"
        var first = true
        func key(_ name: String) {
            out += first ? "\"" : ",\""
            first = false
            out += name + "\":"
        }
        func text(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONValue.writeQuoted(value, into: &out)
        }
        func date(_ name: String, _ value: Date?) {
            guard let value else { return }
            key(name)
            out += StoredJSON.date(value)
        }
        text("concurrencyKey", concurrencyKey)
        text("currentStep", currentStep)
        if let debug {
            key("debug")
            out += debug ? "true" : "false"
        }
        text("error", error)
        date("estimatedCompletion", estimatedCompletion)
        date("finishedAt", finishedAt)
        text("id", id)
        key("inputs")
        JSONValue.object(inputs).writeJSON(into: &out)
        key("metrics")
        metrics.writeJSON(into: &out)
        if let outputs {
            key("outputs")
            JSONValue.object(outputs).writeJSON(into: &out)
        }
        if let parent {
            key("parent")
            parent.writeJSON(into: &out)
        }
        text("pausedBefore", pausedBefore)
        date("startedAt", startedAt)
        text("status", status.rawValue)
        key("stepResults")
        out += "{}"
        text("workflowID", workflowID)
        text("workflowVersion", workflowVersion)
        out += "}"
    }
}

extension ExecutionMetrics {
    fileprivate func writeJSON(into out: inout String) {
        out += "{\"cacheHits\":" + String(cacheHits)
        out += ",\"criticalPathDuration\":" + StoredJSON.duration(criticalPathDuration)
        out += ",\"failedSteps\":" + String(failedSteps)
        out += ",\"optimizationGains\":" + "\(optimizationGains)"
        out += ",\"retryCount\":" + String(retryCount)
        out += ",\"skippedSteps\":" + String(skippedSteps)
        out += ",\"stepCount\":" + String(stepCount)
        out += ",\"successfulSteps\":" + String(successfulSteps)
        out += ",\"totalDuration\":" + StoredJSON.duration(totalDuration)
        out += "}"
    }
}

extension StoredOptions {
    fileprivate func writeJSON(into out: inout String) {
        out += "{\"debug\":" + (debug ? "true" : "false")
        if let maxParallelism { out += ",\"maxParallelism\":" + String(maxParallelism) }
        if let parent {
            out += ",\"parent\":"
            parent.writeJSON(into: &out)
        }
        out += ",\"paused\":" + (paused ? "true" : "false")
        if let trace {
            out += ",\"trace\":{\"traceparent\":"
            JSONValue.writeQuoted(trace.traceparent, into: &out)
            if let state = trace.tracestate { StoredJSON.field("tracestate", state, into: &out) }
            out += "}"
        }
        out += ",\"trigger\":"
        trigger.writeJSON(into: &out)
        out += "}"
    }
}

extension ParentLink {
    fileprivate func writeJSON(into out: inout String) {
        out += "{\"depth\":" + String(depth)
        StoredJSON.field("executionID", executionID, into: &out)
        StoredJSON.field("stepID", stepID, into: &out)
        out += "}"
    }
}
