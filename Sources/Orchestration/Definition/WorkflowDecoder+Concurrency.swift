/// `concurrency:` on a workflow or a step: `{key, limit, onConflict}`, or just the key
/// (`concurrency: deploy-${inputs.env}`, limit 1, queue), as GitHub Actions writes it.
extension WorkflowDecoder {
    static let concurrencyFields = ["key", "limit", "onConflict"]

    static func readConcurrency(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> ConcurrencyPolicy? {
        if node.scalar != nil {
            guard let key = r.string(node, path: path) else { return nil }
            return ConcurrencyPolicy(key: key)
        }
        guard let fields = r.fields(node, path: path, known: concurrencyFields, what: "a concurrency setting") else { return nil }
        var policy = ConcurrencyPolicy(key: "")
        var sawKey = false
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "key":
                sawKey = true
                policy.key = r.string(value, path: p, numbers: true) ?? ""
            case "limit":
                policy.limit = r.int(value, path: p) ?? policy.limit
            case "onConflict":
                guard let text = r.string(value, path: p) else { break }
                guard let conflict = ConcurrencyPolicy.Conflict(rawValue: text) else {
                    let choices = ConcurrencyPolicy.Conflict.allCases.map(\.rawValue)
                    r.error(.invalidValue, "unknown onConflict '\(text)'\(DidYouMean.unknownChoice(text, among: choices))", path: p, at: value)
                    break
                }
                policy.onConflict = conflict
            default: break
            }
        }
        guard sawKey else {
            r.error(.missingField, "a concurrency setting needs a 'key'", path: "\(path).key", at: node)
            return nil
        }
        return policy
    }
}
