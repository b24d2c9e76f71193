extension ValidationContext {
    /// `forEach` must be a list or a `${…}` reference to one; `maxConcurrency`, `toleratedFailures`
    /// and `toleratedFailurePercentage` come only with it. References add implicit dependencies.
    mutating func checkForEach(_ step: WorkflowStep, at i: Int, path: String, onStep: (Int) -> Void) {
        guard let source = step.forEach else {
            let orphans = [
                ("maxConcurrency", step.maxConcurrency != nil), ("toleratedFailures", step.toleratedFailures != nil),
                ("toleratedFailurePercentage", step.toleratedFailurePercentage != nil),
            ]
            for (name, set) in orphans where set {
                error(.invalidValue, "\(name) applies only to a step with forEach", path: "\(path).\(name)")
            }
            return
        }
        let at = "\(path).forEach"
        switch source {
        case .array(let items):
            if items.count > ForEach.maximumItems {
                error(.invalidValue, "forEach lists \(items.count) items, more than the limit of \(ForEach.maximumItems)", path: at)
            }
            checkValue(source, path: at, owner: i, allowSteps: true, rollback: false, onStep: onStep)
        case .string(let text) where text.contains("${"):
            checkValue(source, path: at, owner: i, allowSteps: true, rollback: false, onStep: onStep)
        default:
            error(
                .wrongType,
                "forEach needs a list: a literal list, or a ${…} reference to one (an upstream output like ${list.files}, an input or a variable), not \(source.kindName == "string" ? "the text '\(source.text.prefix(40))'" : "a \(source.kindName)")",
                path: at)
        }
        if let n = step.maxConcurrency, n < 1 {
            error(.invalidValue, "maxConcurrency must be at least 1, not \(n)", path: "\(path).maxConcurrency")
        }
        if let n = step.toleratedFailures, n < 0 {
            error(.invalidValue, "toleratedFailures must be 0 or more, not \(n)", path: "\(path).toleratedFailures")
        }
        if let p = step.toleratedFailurePercentage, !(p >= 0 && p <= 100) {
            error(
                .invalidValue, "toleratedFailurePercentage must be between 0 and 100, not \(JSONValue.format(p))",
                path: "\(path).toleratedFailurePercentage")
        }
    }

    /// Handles `${item…}` and `${itemIndex}`: valid in a forEach step's inputs (`items`), refused
    /// in the rest of a forEach step (its condition decides the whole step; its rollback runs
    /// once). Returns whether the reference was one of them.
    mutating func checkItemReference(_ ref: Reference, owner: Int, items: Bool, path: String, location: SourceLocation?) -> Bool {
        let head = ref.head
        guard head == ForEach.itemName || head == ForEach.indexName else { return false }
        if items {
            if head == ForEach.indexName, ref.components.count > 1 {
                error(.invalidReference, "${\(ref)}: itemIndex is a number and has no fields", path: path, location: location)
            }
            if variables.contains(head) || index[head] != nil {
                warning(
                    .invalidReference,
                    "${\(ref)} reads the forEach item here, not the \(index[head] != nil ? "step" : "variable") named '\(head)'; rename that one to read it",
                    path: path, location: location)
            }
            return true
        }
        guard workflow.steps[owner].forEach != nil, !variables.contains(head), index[head] == nil else { return false }
        error(
            .invalidReference,
            "${\(ref)} is only available in the inputs of a forEach step: its condition decides the whole step before there are items, and its rollback runs once",
            path: path, location: location)
        return true
    }
}
