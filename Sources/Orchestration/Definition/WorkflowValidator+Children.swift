extension ValidationContext {
    /// A `workflow` step names the registered workflow it runs (not this one); `workflow` and
    /// `version` belong to such steps only. Cycles through other workflows are refused when the
    /// workflow is registered, where the others are known (``WorkflowEngine``).
    mutating func checkChildStep(_ step: WorkflowStep, path: String) {
        if let rollback = step.rollback, [.workflow, .approval].contains(rollback.type) || rollback.inputs["signal"] != nil {
            error(
                .invalidValue, "a rollback runs a task, a call or a wait; it cannot start a child, wait for approval or for a signal",
                path: "\(path).rollback")
        }
        if let cache = step.cache, cache.enabled, step.type == .workflow || step.type == .approval || step.inputs["signal"] != nil {
            error(.invalidValue, "a step that starts a child or waits for a decision or a signal cannot be cached", path: "\(path).cache")
        }
        guard step.type == .workflow else {
            if step.workflow != nil {
                error(
                    .invalidValue, "'workflow' names the child of a workflow step, and this step is a \(step.type.rawValue) step",
                    path: "\(path).workflow")
            }
            if step.workflowVersion != nil {
                error(
                    .invalidValue, "'version' pins the child of a workflow step; this step is a \(step.type.rawValue) step", path: "\(path).version")
            }
            return
        }
        guard let child = step.workflow else {
            error(.missingField, "a workflow step needs 'workflow': the id of the registered workflow it runs", path: "\(path).type")
            return
        }
        if !Self.isValidID(child) {
            error(.invalidID, "workflow id '\(child)' may only contain letters, digits, '_' and '-'", path: "\(path).workflow")
        } else if child == workflow.id {
            error(.invalidValue, "workflow \(child) cannot run itself as a child", path: "\(path).workflow")
        }
        if step.queue != nil {
            error(.invalidValue, "a workflow step starts its child where the execution runs; it takes no queue", path: "\(path).queue")
        }
        if step.action != nil {
            error(.invalidAction, "a workflow step runs a workflow, not an action", path: "\(path).action")
        }
        for key in step.inputs.keys.sorted() where Self.readsSecret(step.inputs[key]!) {
            error(
                .invalidReference,
                "a child's inputs are saved with it: pass no secret through them; the child reads ${secrets.NAME} itself",
                path: "\(path).inputs.\(key)")
        }
        if let version = step.workflowVersion, version.isEmpty || !version.allSatisfy(\.isHexDigit) {
            error(
                .invalidValue, "version '\(version)' is not a version hash (hex digits, as `workflows versions` lists them)", path: "\(path).version")
        }
    }

    /// The workflow's `outputs`: names as ids, values templates over its steps and inputs.
    mutating func checkOutputs() {
        guard let outputs = workflow.outputs else { return }
        for name in outputs.keys.sorted() where !Self.isValidID(name) {
            error(.invalidID, "output name '\(name)' may only contain letters, digits, '_' and '-'", path: "outputs.\(name)")
        }
        checkTemplates(in: outputs, path: "outputs", owner: nil, allowSteps: true) { _ in }
        for name in outputs.keys.sorted() where Self.readsSecret(outputs[name]!) {
            error(.invalidReference, "outputs are saved and shown: they may not read secrets", path: "outputs.\(name)")
        }
    }

    /// Whether `value` holds a `${secrets.…}` reference.
    static func readsSecret(_ value: JSONValue) -> Bool {
        CompiledValue(value).references.contains { if case .secret = $0.target(stepIDs: []) { return true } else { return false } }
    }
}
