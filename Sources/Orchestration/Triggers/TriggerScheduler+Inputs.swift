import Foundation

/// A trigger's `inputs`, rendered from its payload (`${trigger.…}`).
extension TriggerScheduler {
    /// The trigger's `inputs`, each rendered with `${trigger.…}` read from the payload.
    static func inputs(of trigger: WorkflowTrigger, payload: JSONValue) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        // Without a mapping, webhooks give the guide's inputs: branch, commit_hash, triggered_by.
        // Incidents give incident_id, title, severity, service and triggered_by. Events give their
        // data's fields, as the guide's subscriber hands the event's data to the workflow.
        if trigger.inputs.isEmpty, trigger.type == .event, case .object(let data)? = payload["data"] {
            return data
        }
        if trigger.inputs.isEmpty, case .object(let fields) = payload {
            let names =
                switch trigger.type {
                case .webhook: ["branch", "commit_hash", "triggered_by"]
                case .incident: ["incident_id", "title", "severity", "service", "triggered_by"]
                default: [String]()
                }
            for name in names { out[name] = fields[name] }
        }
        for (name, value) in trigger.inputs {
            out[name] = try render(value, payload: payload)
        }
        return out
    }

    static func render(_ value: JSONValue, payload: JSONValue) throws -> JSONValue {
        switch value {
        case .string(let text) where text.contains("${"):
            return try Template(text).render { reference in
                guard case .key("trigger")? = reference.components.first else {
                    throw ResolutionError(message: "trigger inputs may read only ${trigger.…}, not ${\(reference)}")
                }
                return JSONValue.descend(payload, reference.components.dropFirst()) ?? .null
            }
        case .array(let items): return .array(try items.map { try render($0, payload: payload) })
        case .object(let o): return .object(try o.mapValues { try render($0, payload: payload) })
        default: return value
        }
    }
}
