import Foundation
import Orchestration

/// Amazon States Language for AWS Step Functions (JSONPath).
///
/// The state carries `{"inputs": {…}, "steps": {"<id>": {"status": …, "output": …}}}`: every
/// step records its status (`success`, `failed`, `skipped`), so later conditions can read it and
/// the run behaves as NovaCron's does: a failed step skips what depends on it, the rest goes on,
/// and at the end a failed run rolls back (reverse topological order, each rollback only where
/// its step succeeded) and ends in a Fail state.
///
/// - series-parallel DAGs become nested Parallel states exactly; other DAGs are layered into
///   waves, and the export reports the makespan before and after;
/// - `lambda` (AWS) → `lambda:invoke`; `api` and health checks → `http:invoke` (needs an
///   EventBridge connection); `container` (docker-run) → `ecs:runTask.sync`; `wait` → Wait;
/// - retry policies → Retry (IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds,
///   JitterStrategy); step timeouts → TimeoutSeconds; conditions → Choice states.
struct ASLExporter {
    let model: ExportModel
    let names: [String]
    var problems: [ExportProblem] = []
    var warnings: [ExportProblem] = []
    var parallelCount = 0

    init(model: ExportModel) {
        self.model = model
        self.names = model.safeNames()
    }

    func export() -> ExporterOutput {
        var builder = self
        return builder.build()
    }

    /// States every export may write besides the steps' own.
    static let ownStates: Set<String> = ["Defaults", "Inputs", "Outputs", "Succeeded", "Failed"]

    enum Exit {
        case next(String)
        case end

        func apply(to state: inout [String: JSONValue]) {
            switch self {
            case .next(let name): state["Next"] = .string(name)
            case .end:
                // Only branches end; they hand back their steps (see `structure`).
                state["End"] = true
                state["OutputPath"] = "$.steps"
            }
        }
    }

    mutating func build() -> ExporterOutput {
        let layout = model.decomposition()
        if let w = model.layoutWarning(layout, target: .aws) { warnings.append(w) }
        for s in model.steps where Self.ownStates.contains(s.id) {
            problems.append(ExportProblem(step: s.id, message: "'\(s.id)' is the name of a state the export writes; rename the step"))
        }
        if model.workflow.failFast {
            warnings.append(
                ExportProblem(
                    field: "failFast",
                    message:
                        "Step Functions runs the other branches to their end after a failure (failFast is not exported); the run still fails and rolls back"
                ))
        }
        var states: [String: JSONValue] = [:]
        // The end: fail (after rollbacks) if a step that may not fail failed.
        states["Succeeded"] = ["Type": "Succeed"]
        states["Failed"] = ["Type": "Fail", "Error": "NovaCron.StepFailed", "Cause": "a step failed; the execution history says which"]
        var failure: Exit = .next("Failed")
        for i in model.topologicalOrder.reversed() {
            guard let rollback = model.steps[i].rollback else { continue }
            let name = StepResult.rollbackID(of: model.steps[i].id)
            let skip = failure
            var task = work(rollback, resultPath: "$.rollbacks.\(names[i])", stepID: model.steps[i].id, field: "rollback") ?? [:]
            failure.apply(to: &task)
            if task["Type"] != "Wait" {  // a Wait state takes no Catch
                task["Catch"] = [
                    ["ErrorEquals": ["States.ALL"], "ResultPath": .string("$.rollbacks.\(names[i])"), "Next": .string(skip.name ?? "Failed")]
                ]
            }
            states[name] = .object(task)
            var gate: [String: JSONValue] = [
                "Type": "Choice",
                "Choices": [["Variable": .string("$.steps.\(names[i]).status"), "StringEquals": "success", "Next": .string(name)]],
            ]
            gate["Default"] = .string(skip.name ?? "Failed")
            states[name + "?"] = .object(gate)
            failure = .next(name + "?")
        }
        var success: Exit = .next("Succeeded")
        if let outputs = model.workflow.outputs, !outputs.isEmpty {
            // What a parent's workflow step reads (`$.Output.outputs`), as NovaCron's child returns it.
            var values: [String: JSONValue] = [:]
            let before = problems.count
            for key in outputs.keys.sorted() { put(&values, key, CompiledValue(outputs[key]!), "", "outputs." + key) }
            for p in before..<problems.count { problems[p].step = nil }
            states["Outputs"] = ["Type": "Pass", "Parameters": .object(values), "ResultPath": "$.outputs", "Next": "Succeeded"]
            success = .next("Outputs")
        }
        let mayFail = model.steps.filter { !$0.continueOnFailure }
        var check: Exit = success
        if !mayFail.isEmpty {
            let rules: [JSONValue] = mayFail.map { ["Variable": .string("$.steps.\(names[$0.index]).status"), "StringEquals": "failed"] }
            states["Any step failed?"] = [
                "Type": "Choice",
                "Choices": [["Or": .array(rules), "Next": .string(failure.name ?? "Failed")]],
                "Default": .string(success.name ?? "Succeeded"),
            ]
            check = .next("Any step failed?")
        }
        let first = structure(layout.structure, exit: check, states: &states)
        var initial: [String: JSONValue] = ["Type": "Pass", "Next": .string(first)]
        if model.workflow.variables.isEmpty {
            initial["Parameters"] = ["inputs.$": "$", "steps": [:], "rollbacks": [:]]
            states["Inputs"] = .object(initial)
        } else {
            initial["Parameters"] = ["inputs.$": "States.JsonMerge($.defaults, $.given, false)", "steps": [:], "rollbacks": [:]]
            states["Inputs"] = .object(initial)
            states["Defaults"] = ["Type": "Pass", "Parameters": ["given.$": "$", "defaults": .object(model.workflow.variables)], "Next": "Inputs"]
        }
        var machine: [String: JSONValue] = [
            "Comment": .string(model.workflow.description ?? model.workflow.name),
            "StartAt": model.workflow.variables.isEmpty ? "Inputs" : "Defaults",
            "States": .object(states),
        ]
        if let timeout = model.workflow.timeout { machine["TimeoutSeconds"] = .number(Double(seconds(timeout))) }
        let document = JSONValue.object(machine)
        return ExporterOutput(
            result: ExportResult(
                target: .aws, document: document, text: Self.text(document), fileExtension: "json", warnings: warnings, layout: layout),
            problems: problems)
    }

    /// Indented JSON, with BackoffRate written as a decimal (`2.0`): the language says it is one,
    /// and validators such as statelint refuse `2`.
    static func text(_ document: JSONValue) -> String {
        var out = ""
        for line in document.prettyJSONText.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("\"BackoffRate\": "), !line.contains("."),
                let colon = line.range(of: ": ")
            {
                let value = line[colon.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: ","))
                out += line[..<colon.upperBound] + value + ".0" + (line.hasSuffix(",") ? "," : "") + "\n"
            } else {
                out += line + "\n"
            }
        }
        return String(out.dropLast())
    }

    /// Adds the states of `s` and returns the name of its first.
    mutating func structure(_ s: SeriesParallel.Structure, exit: Exit, states: inout [String: JSONValue]) -> String {
        switch s {
        case .step(let i):
            return step(i, exit: exit, states: &states)
        case .series(let parts):
            var next = exit
            var first = ""
            for part in parts.reversed() {
                first = structure(part, exit: next, states: &states)
                next = .next(first)
            }
            return first
        case .parallel(let parts):
            parallelCount += 1
            let name = "Parallel \(parallelCount)"
            var branches: [JSONValue] = []
            for part in parts {
                var inner: [String: JSONValue] = [:]
                let start = structure(part, exit: .end, states: &inner)
                branches.append(["StartAt": .string(start), "States": .object(inner)])
            }
            // Each branch hands back its steps; they are merged into the state.
            var merged = "$.branches[0]"
            for b in 1..<parts.count { merged = "States.JsonMerge(\(merged), $.branches[\(b)], false)" }
            let state: [String: JSONValue] = [
                "Type": "Parallel", "Branches": .array(branches), "ResultPath": "$.branches", "Next": .string(name + " (merge)"),
            ]
            var merge: [String: JSONValue] = [
                "Type": "Pass", "Parameters": ["inputs.$": "$.inputs", "steps.$": .string(merged), "rollbacks.$": "$.rollbacks"],
            ]
            exit.apply(to: &merge)
            states[name + " (merge)"] = .object(merge)
            states[name] = .object(state)
            return name
        }
    }

    /// A step: a Choice when it has a gate, its work, and Pass states recording a skip or failure.
    mutating func step(_ i: Int, exit: Exit, states: inout [String: JSONValue]) -> String {
        let s = model.steps[i]
        let id = s.id, path = "$.steps.\(names[i])"
        let gate = gateRule(s)
        let result: (String, JSONValue) -> JSONValue = { status, extra in
            var fields: [String: JSONValue] = ["status": .string(status), "success": .bool(status == "success"), "failed": .bool(status == "failed")]
            if case .object(let more) = extra { fields.merge(more) { _, b in b } }
            return .object(fields)
        }
        var skipped: [String: JSONValue] = ["Type": "Pass", "Result": result("skipped", ["timedOut": false]), "ResultPath": .string(path)]
        exit.apply(to: &skipped)
        // A forEach step is a Map around its work, entered through the Pass that holds a literal list.
        var entry = id
        let made: [String: JSONValue]?
        if s.step.forEach != nil {
            let fan = fanState(s, path: path, states: &states)
            made = fan?.state
            entry = fan?.entry ?? id
        } else {
            made = work(s.body, resultPath: path, stepID: id, field: nil)
        }
        guard var work = made else { return id }
        let isWait = work["Type"] == "Wait"
        if isWait {
            var done: [String: JSONValue] = ["Type": "Pass", "Result": result("success", ["timedOut": false]), "ResultPath": .string(path)]
            if s.body.raw["until"] != nil {
                done["Result"] = nil
                done["Parameters"] = result("success", ["timedOut": false, "output": untilOutput(work)])
            }
            exit.apply(to: &done)
            states[id + " (done)"] = .object(done)
            work["Next"] = .string(id + " (done)")
        } else {
            exit.apply(to: &work)
            var failed: [String: JSONValue] = [
                "Type": "Pass", "Parameters": result("failed", ["timedOut": false, "error.$": .string(path)]), "ResultPath": .string(path),
            ]
            var timedOut = failed
            timedOut["Parameters"] = result("failed", ["timedOut": true, "error.$": .string(path)])
            exit.apply(to: &failed)
            exit.apply(to: &timedOut)
            states[id + " (failed)"] = .object(failed)
            var onTimeout = id + " (timed out)"
            if s.step.type == .approval, let decided = decidedOnTimeout(s.step.onTimeout, path: path, exit: exit) {
                onTimeout = id + " (approved on timeout)"
                states[onTimeout] = .object(decided)
            } else if s.step.type == .approval, s.step.onTimeout == "reject" {
                onTimeout = id + " (failed)"
            } else {
                states[onTimeout] = .object(timedOut)
            }
            work["Catch"] = [
                ["ErrorEquals": ["States.Timeout"], "ResultPath": .string(path), "Next": .string(onTimeout)],
                ["ErrorEquals": ["States.ALL"], "ResultPath": .string(path), "Next": .string(id + " (failed)")],
            ]
        }
        states[id] = .object(work)
        switch gate {
        case .always:
            return entry
        case .never:
            states[id + " (skipped)"] = .object(skipped)
            return id + " (skipped)"
        case .when(let rule):
            states[id + " (skipped)"] = .object(skipped)
            var choice = rule
            choice["Next"] = .string(entry)
            states[id + "?"] = ["Type": "Choice", "Choices": [.object(choice)], "Default": .string(id + " (skipped)")]
            return id + "?"
        }
    }

    enum Gate {
        case always, never
        case when([String: JSONValue])
    }

    /// When a step runs: every upstream it does not read the status of succeeded, and its condition holds.
    mutating func gateRule(_ s: ExportModel.Step) -> Gate {
        var rules: [JSONValue] = s.upstream.filter { !s.statusReads.contains($0) }.map {
            ["Variable": .string("$.steps.\(names[$0]).status"), "StringEquals": "success"]
        }
        if let condition = s.condition {
            switch constant(condition) {
            case false?: return .never
            case true?: break
            case nil:
                guard let test = rule(condition, step: s.id) else { return .always }
                rules.append(.object(test))
            }
        }
        if rules.isEmpty { return .always }
        if rules.count == 1, case .object(let only) = rules[0] { return .when(only) }
        return .when(["And": .array(rules)])
    }

    func constant(_ e: Condition) -> Bool? {
        if case .literal(.bool(let b)) = e { return b }
        return nil
    }
}
