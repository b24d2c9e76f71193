import Foundation

extension ExecutionStateMachine {
    /// Resolves one reference against inputs, secrets, context and step results.
    ///
    /// In a condition, a missing output reads as `null` (so `${x.out} == null` works); in an
    /// input it is an error that names the step and the field.
    /// In an item of a forEach step, `${item…}` and `${itemIndex}` read the item.
    func resolve(_ reference: Reference, forCondition: Bool, item: ItemContext? = nil) throws -> JSONValue? {
        if let item, let value = try item.value(of: reference) { return value }
        let graph = compiled.graph
        switch reference.target(stepIDs: Set(), variables: Set()) {
        case .secret(let name):
            guard let value = values.secrets[name] else { throw ResolutionError(message: "secret '\(name)' is not set") }
            return .string(value)
        case .execution(let path):
            return JSONValue.descend(.object(["id": .string(values.executionID)]), path) ?? .null
        case .workflow(let path):
            let object: JSONValue = .object(["id": .string(values.workflowID), "name": .string(values.workflowName)])
            return JSONValue.descend(object, path) ?? .null
        case .trigger(let path):
            return JSONValue.descend(values.trigger, path) ?? .null
        case .step(let id, let field, let path):
            return try stepValue(id: id, field: field, path: path, reference: reference, forCondition: forCondition)
        default:
            break
        }
        // `${name…}`: a step when the head is a step id, else an input or variable.
        let head = reference.head
        let rest = reference.components.dropFirst()
        if let _ = graph.index[head], case .key(let field)? = rest.first {
            return try stepValue(id: head, field: field, path: Array(rest.dropFirst()), reference: reference, forCondition: forCondition)
        }
        var name = head
        var path = Array(rest)
        if head == "inputs", case .key(let k)? = rest.first {
            name = k
            path = Array(rest.dropFirst())
        }
        guard let value = values.inputs[name] else {
            if forCondition { return .null }
            throw ResolutionError(message: "${\(reference)}: no input or variable '\(name)'")
        }
        guard let inner = JSONValue.descend(value, path) else {
            if forCondition { return .null }
            throw ResolutionError(message: "${\(reference)}: '\(name)' has no such field")
        }
        return inner
    }

    func stepValue(id: String, field: String, path: [Reference.Component], reference: Reference, forCondition: Bool) throws -> JSONValue? {
        guard let i = compiled.graph.index[id] else { throw ResolutionError(message: "${\(reference)}: no step '\(id)'") }
        let result = results[i]
        guard let value = result.value(of: field) else {
            if forCondition { return .null }
            let produced = result.outputs.keys.sorted()
            let list = produced.isEmpty ? "it produced no outputs" : "its outputs are \(produced.joined(separator: ", "))"
            throw ResolutionError(message: "${\(reference)}: step \(id) has no output '\(field)' (\(list))")
        }
        guard let inner = JSONValue.descend(value, path) else {
            if forCondition { return .null }
            throw ResolutionError(message: "${\(reference)}: no such field inside \(id).\(field)")
        }
        return inner
    }

    /// The request for an attempt of `body`: inputs rendered, the action applied, the shell
    /// command's bindings and every input exported as environment variables.
    func makeRequest(_ body: CompiledWorkflow.Body, attempt: Int, item: ItemContext? = nil) throws -> StepRequest {
        var inputs: [String: JSONValue] = [:]
        if !body.inputs.isEmpty { inputs.reserveCapacity(body.inputs.count + 1) }
        // A closure literal, not one kept in a variable: a kept one is escaping and would copy
        // the whole machine for every request.
        for (key, value) in body.inputs { inputs[key] = try value.render { try self.resolve($0, forCondition: false, item: item) } }
        var environment: [String: String] = [:]
        if let splice = body.splice {
            inputs["command"] = .string(splice.script)
            for binding in splice.bindings {
                environment[binding.variable] = (try resolve(binding.reference, forCondition: false, item: item) ?? .null).text
            }
        }
        if let action = body.action {
            inputs = try action.apply(to: inputs)
        }
        let stepID = item?.id ?? body.id
        let key = "\(values.executionID)/\(stepID)"
        var request = StepRequest(
            executionID: values.executionID, workflowID: values.workflowID, stepID: stepID, attempt: attempt,
            type: body.type, action: body.action?.name, inputs: inputs, environment: environment,
            idempotencyKey: key, timeout: body.timeout)
        if let action = body.action, !action.outputs.isEmpty {
            request.actionOutputs = try action.renderOutputs(inputs: inputs)
        }
        return request
    }
}

extension ExecutionStateMachine {
    /// The workflow's `outputs` over the ended execution's results and inputs.
    func renderOutputs(_ declared: [String: JSONValue]) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (name, value) in declared {
            do {
                out[name] = try CompiledValue(value).render { try self.resolve($0, forCondition: false) }
            } catch {
                throw ResolutionError(message: "\(name): \(error)")
            }
        }
        return out
    }

    /// Records the child execution a `workflow` step's attempt started (or carries on).
    package mutating func noteChild(unit: Int, executionID: String) {
        guard results.indices.contains(unit) else { return }
        results[unit].childExecutionID = executionID
    }

    /// The unit whose result id is `stepID` (a step, or a forEach item `<step>[<i>]`).
    package func unit(of stepID: String) -> Int? {
        if let i = compiled.graph.index[stepID] { return i }
        guard let item = StepResult.item(of: stepID), let i = compiled.graph.index[item.stepID], let fan = fans[i], item.index < fan.count
        else { return nil }
        return fan.first + item.index
    }
}

extension ExecutionStateMachine {
    /// What step `stepID` would be given if it started now (its next attempt): for a person
    /// deciding whether to let it run (debug mode).
    package func preview(stepID: String) throws -> StepRequest {
        guard let i = compiled.graph.index[stepID] ?? results.indices.dropFirst(stepCount).first(where: { results[$0].stepID == stepID }) else {
            throw ResolutionError(message: "no step '\(stepID)'")
        }
        return try makeRequest(compiled.bodies[stepIndex(of: i)], attempt: results[i].attempts + 1, item: itemContext(i))
    }
}
