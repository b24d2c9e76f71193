import Foundation
import Orchestration

/// Concurrency keys on Argo: `synchronization` on the workflow (a workflow-level key) or on the
/// step's template, a mutex for `limit: 1`, a semaphore otherwise. Argo queues whoever waits for a
/// lock, so only `onConflict: queue` is exported.
extension ArgoExporter {
    /// The ConfigMap semaphores read their limits from.
    static let semaphoreConfigMap = "novacron-concurrency"

    /// `synchronization` for `policy`; `step` nil for the workflow's own key.
    mutating func synchronization(_ policy: ConcurrencyPolicy, step: ExportModel.Step?, parameters: inout [String: String]) -> JSONValue? {
        func problem(_ message: String) -> JSONValue? {
            problems.append(ExportProblem(step: step?.id, field: "concurrency", message: message))
            return nil
        }
        guard policy.onConflict == .queue else {
            return problem("Argo queues whoever waits for a lock; onConflict: \(policy.onConflict.rawValue) cannot be expressed")
        }
        let key = CompiledValue(.string(policy.key))
        let before = problems.count
        let name: String?
        if let step {
            name = text(key, step, "concurrency.key", &parameters)
        } else {
            name = workflowText(key)
        }
        for p in before..<problems.count where step == nil { problems[p].step = nil }
        guard let name else { return nil }
        guard !name.contains("/") else { return problem("Argo lock names are namespace/kind/name: '/' cannot be part of a key") }
        if policy.limit == 1 { return ["mutexes": [["name": .string(name)]]] }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) })
        else {
            return problem(
                "an Argo semaphore reads its limit from a ConfigMap key, so a key with limit > 1 must be fixed text of letters, digits, '-', '_' and '.'"
            )
        }
        warnings.append(
            ExportProblem(
                step: step?.id, field: "concurrency.limit",
                message:
                    "Argo reads a semaphore's limit from a ConfigMap: create ConfigMap \(Self.semaphoreConfigMap) with \(name): \"\(policy.limit)\" in the workflow's namespace"
            ))
        return ["semaphores": [["configMapKeyRef": ["name": .string(Self.semaphoreConfigMap), "key": .string(name)]]]]
    }

    /// A workflow-level value as Argo text: inputs as workflow parameters, the execution's id as the uid.
    mutating func workflowText(_ value: CompiledValue) -> String? {
        switch value {
        case .literal(let v): return Self.escapeBraces(v.text)
        case .template(let t):
            var out = ""
            for part in t.parts {
                switch part {
                case .text(let text): out += Self.escapeBraces(text)
                case .reference(let r, _):
                    guard let piece = dagValue(r, step: "", field: "concurrency.key") else { return nil }
                    out += piece
                }
            }
            return out
        case .array, .object:
            return nil
        }
    }
}
