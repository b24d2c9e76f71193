import Foundation

extension StepResult {
    /// The result as the stores keep it: compact JSON with sorted keys that `JSONDecoder` reads
    /// back to an equal value, exactly as `JSONEncoder` (sorted keys, default strategies) writes
    /// it, but written field by field: a durable chain encodes one per step, and going through
    /// `JSONEncoder`'s generic containers was about a tenth of the step's CPU time.
    ///
    /// A result `JSONEncoder` would refuse (a date or an output that is not a finite number)
    /// goes through it, so it fails the same way.
    ///
    /// ```swift
    /// let text = try result.storedJSON()
    /// let back = try JSONDecoder().decode(StepResult.self, from: Data(text.utf8))   // == result
    /// ```
    package func storedJSON() throws -> String {
        guard isFinite else { return String(decoding: try StoredJSON.encoder.encode(self), as: UTF8.self) }
        var out = "{"
        out.reserveCapacity(160)
        // Keys in sorted order, optionals only when present (as synthesized `encodeIfPresent`).
        out += "\"attempts\":" + String(attempts)
        out += ",\"cached\":" + (cached ? "true" : "false")
        if let childExecutionID { StoredJSON.field("childExecutionID", childExecutionID, into: &out) }
        out += ",\"duration\":" + StoredJSON.duration(duration)
        if let error { StoredJSON.field("error", error, into: &out) }
        if let exitCode { out += ",\"exitCode\":" + String(exitCode) }
        if let finishedAt { out += ",\"finishedAt\":" + StoredJSON.date(finishedAt) }
        if let itemCount { out += ",\"itemCount\":" + String(itemCount) }
        out += ",\"outputs\":"
        JSONValue.object(outputs).writeJSON(into: &out)
        if let skipReason { StoredJSON.field("skipReason", skipReason, into: &out) }
        if let startedAt { out += ",\"startedAt\":" + StoredJSON.date(startedAt) }
        StoredJSON.field("status", status.rawValue, into: &out)
        StoredJSON.field("stepID", stepID, into: &out)
        out += ",\"timedOut\":" + (timedOut ? "true" : "false")
        if let waitingFor { StoredJSON.field("waitingFor", waitingFor, into: &out) }
        out += "}"
        return out
    }

    /// Every number in it can be written as JSON.
    private var isFinite: Bool {
        (startedAt?.timeIntervalSinceReferenceDate.isFinite ?? true) && (finishedAt?.timeIntervalSinceReferenceDate.isFinite ?? true)
            && outputs.values.allSatisfy(\.isFinite)
    }
}
