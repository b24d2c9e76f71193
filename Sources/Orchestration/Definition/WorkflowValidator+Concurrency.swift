extension ValidationContext {
    /// A workflow's `concurrency`: its key is rendered when an execution starts, before any step,
    /// so it reads inputs, variables, the trigger and the execution only.
    mutating func checkWorkflowConcurrency() {
        guard let policy = workflow.concurrency else { return }
        checkConcurrencyFields(policy, path: "concurrency")
        guard let template = parsedKey(policy.key, path: "concurrency.key") else { return }
        for ref in template.references {
            if case .step = ref.reference.target(stepIDs: stepIDSet, variables: variables) {
                let at = sourceMap?.location(of: "concurrency.key", offset: ref.offset, in: policy.key)
                error(
                    .unknownReference,
                    "${\(ref.reference)}: a workflow's concurrency key is rendered when the execution starts, before any step runs; use inputs, variables or trigger fields",
                    path: "concurrency.key", location: at)
                continue
            }
            checkReference(ref, text: policy.key, path: "concurrency.key", owner: nil, allowSteps: false) { _ in }
        }
    }

    /// A step's `concurrency`: its key may read upstream outputs (they become dependencies) and,
    /// on a forEach step, `${item}`. A step that waits for a decision, a signal or a time holds
    /// no slot, so it takes none.
    mutating func checkStepConcurrency(_ step: WorkflowStep, at i: Int, path: String, onStep: (Int) -> Void) {
        guard let policy = step.concurrency else { return }
        let p = "\(path).concurrency"
        checkConcurrencyFields(policy, path: p)
        let waits = step.type == .approval || (step.type == .wait && (step.inputs["signal"] != nil || step.inputs["until"] != nil))
        if waits {
            error(.invalidValue, "a step that waits for a decision, a signal or a time holds no slot; it takes no concurrency key", path: p)
        }
        guard parsedKey(policy.key, path: "\(p).key") != nil else { return }
        checkValue(.string(policy.key), path: "\(p).key", owner: i, allowSteps: true, rollback: false, items: step.forEach != nil, onStep: onStep)
    }

    mutating func checkConcurrencyFields(_ policy: ConcurrencyPolicy, path: String) {
        if policy.key.trimmingWhitespace().isEmpty {
            error(.invalidValue, "a concurrency key must not be empty", path: "\(path).key")
        } else if !policy.key.contains("${"), let problem = ConcurrencyPolicy.checkKey(policy.key) {
            error(.invalidValue, problem, path: "\(path).key")
        }
        if policy.limit < 1 || policy.limit > ConcurrencyPolicy.maximumLimit {
            error(.invalidValue, "a concurrency limit is 1 to \(ConcurrencyPolicy.maximumLimit), not \(policy.limit)", path: "\(path).limit")
        }
    }

    /// The key's template, or nil (with the error said) when it does not parse or reads a secret.
    mutating func parsedKey(_ key: String, path: String) -> Template? {
        guard key.contains("${") else { return nil }
        let template: Template
        do { template = try Template(key) } catch {
            self.error(.invalidReference, error.message, path: path, location: sourceMap?.location(of: path, offset: error.offset ?? 0, in: key))
            return nil
        }
        if Self.readsSecret(.string(key)) {
            error(.invalidReference, "concurrency keys are saved and shown: they may not read secrets", path: path)
            return nil
        }
        return template
    }
}
