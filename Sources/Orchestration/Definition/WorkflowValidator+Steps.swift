extension ValidationContext {
    mutating func checkSteps() {
        var firstSeen: [String: Int] = [:]
        let stepIDs = stepIDSet
        for (i, step) in workflow.steps.enumerated() {
            let path = "steps[\(i)]"
            if step.id.isEmpty {
                if present("\(path).id") { error(.invalidID, "a step id must not be empty", path: "\(path).id") }
            } else if !Self.isValidID(step.id) {
                error(.invalidID, "step id '\(step.id)' may only contain letters, digits, '_' and '-'", path: "\(path).id")
            } else if ReferenceTarget.namespaces.contains(step.id) {
                error(.reservedID, "step id '\(step.id)' is reserved for ${\(step.id).…} references; choose another", path: "\(path).id")
            }
            if let first = firstSeen[step.id], !step.id.isEmpty {
                let at = location("steps[\(first)].id").map { " (first defined at line \($0.line))" } ?? ""
                error(.duplicateID, "duplicate step id '\(step.id)'\(at)", path: "\(path).id")
            } else {
                firstSeen[step.id] = i
            }
            checkDependencies(step, at: i, stepIDs: stepIDs)
            checkChildStep(step, path: path)
            checkWaitStep(step, path: path)
            if let timeout = step.timeout, timeout <= .zero {
                error(.invalidDuration, "a step timeout must be longer than 0s", path: "\(path).timeout")
            }
            if let policy = step.retryPolicy {
                checkRetryPolicy(policy, path: "\(path).retryPolicy", stepTimeout: step.timeout)
            }
            if let queue = step.queue, !WorkflowValidator.isQueueName(queue) {
                error(
                    .invalidValue, "queue '\(queue)' must be 1 to 63 letters, digits, '_', '-' or '.', starting with a letter or digit",
                    path: "\(path).queue")
            }
            if let cache = step.cache, cache.enabled, cache.ttl <= .zero {
                error(.invalidDuration, "a cache ttl must be longer than 0s", path: "\(path).cache.ttl")
            }
            checkGuideCacheInputs(step, path: path)
            checkAction(step.action, type: step.type, inputs: step.inputs, path: path)
            if let rollback = step.rollback {
                checkAction(rollback.action, type: rollback.type, inputs: rollback.inputs, path: "\(path).rollback")
            }
            // References in inputs add implicit dependencies.
            var implicitSet = Set<Int>()
            checkTemplates(in: step.inputs, path: "\(path).inputs", owner: i, allowSteps: true, items: step.forEach != nil) {
                implicitSet.insert($0)
            }
            checkForEach(step, at: i, path: path) { implicitSet.insert($0) }
            checkStepConcurrency(step, at: i, path: path) { implicitSet.insert($0) }
            if let condition = step.condition {
                checkCondition(condition, owner: i, path: "\(path).condition", implicit: &implicitSet)
            }
            let explicit = Set(step.dependencies.compactMap { index[$0] })
            implicit[i] = implicitSet.subtracting(explicit).sorted()
            if let rollback = step.rollback {
                checkTemplates(in: rollback.inputs, path: "\(path).rollback.inputs", owner: i, allowSteps: true, rollback: true) { _ in }
                if let timeout = rollback.timeout, timeout <= .zero {
                    error(.invalidDuration, "a rollback timeout must be longer than 0s", path: "\(path).rollback.timeout")
                }
                if let policy = rollback.retryPolicy {
                    checkRetryPolicy(policy, path: "\(path).rollback.retryPolicy", stepTimeout: rollback.timeout)
                }
            }
        }
    }

    mutating func checkDependencies(_ step: WorkflowStep, at i: Int, stepIDs: Set<String>) {
        var seen = Set<String>()
        for (j, dependency) in step.dependencies.enumerated() {
            let path = "steps[\(i)].dependencies[\(j)]"
            if dependency == step.id {
                error(.selfDependency, "step '\(step.id)' cannot depend on itself", path: path)
            } else if index[dependency] == nil {
                guard !isFull else { continue }
                error(.unknownDependency, "unknown step '\(dependency)'\(DidYouMean.hint(dependency, among: stepIDs))", path: path)
            } else if !seen.insert(dependency).inserted {
                warning(.invalidValue, "dependency '\(dependency)' is listed twice", path: path)
            }
        }
    }

    /// The guide's underscore inputs: `_cache_enabled` and `_cache_ttl` are honoured (as
    /// `cache`); `_optimization_level` has no meaning here and is refused rather than passed on.
    mutating func checkGuideCacheInputs(_ step: WorkflowStep, path: String) {
        if step.inputs["_optimization_level"] != nil {
            error(
                .invalidValue,
                "_optimization_level (the guide's troubleshooting hint) does nothing in NovaCron and is not passed to the step: make the step's own command faster, raise its timeout, or let 'novacron suggest' propose changes from its history; remove this input",
                path: "\(path).inputs._optimization_level")
        }
        if let enabled = step.inputs["_cache_enabled"], enabled.kindName != "bool" {
            error(.wrongType, "_cache_enabled must be true or false", path: "\(path).inputs._cache_enabled")
        }
        switch step.inputs["_cache_ttl"] {
        case nil: break
        case .number(let n)? where n > 0: break
        case .string(let s)?:
            if (try? DurationText.parse(s)) == nil {
                error(.invalidDuration, "_cache_ttl '\(s)' is not a duration like '1h' or a number of seconds", path: "\(path).inputs._cache_ttl")
            }
        default:
            error(.invalidDuration, "_cache_ttl must be a positive number of seconds or a duration like '1h'", path: "\(path).inputs._cache_ttl")
        }
    }

    // MARK: References

    /// Checks every `${…}` in `value`; `onStep` receives the index of each step referenced.
    /// `items`: the inputs are a forEach step's, so `${item…}` and `${itemIndex}` read its item.
    mutating func checkTemplates(
        in inputs: [String: JSONValue], path: String, owner: Int?, allowSteps: Bool, rollback: Bool = false, items: Bool = false,
        onStep: (Int) -> Void
    ) {
        for key in inputs.keys.sorted() {
            checkValue(
                inputs[key]!, path: "\(path).\(key)", owner: owner, allowSteps: allowSteps, rollback: rollback, items: items, onStep: onStep)
        }
    }

    mutating func checkValue(
        _ value: JSONValue, path: String, owner: Int?, allowSteps: Bool, rollback: Bool, items: Bool = false, onStep: (Int) -> Void
    ) {
        switch value {
        case .string(let s):
            guard s.contains("${") else { return }
            do {
                let template = try Template(s)
                for ref in template.references {
                    checkReference(
                        ref, text: s, path: path, owner: owner, allowSteps: allowSteps, rollback: rollback, items: items, onStep: onStep)
                }
            } catch {
                self.error(
                    .invalidReference, error.message, path: path,
                    location: sourceMap?.location(of: path, offset: error.offset ?? 0, in: s))
            }
        case .array(let elements):
            for (i, item) in elements.enumerated() {
                checkValue(item, path: "\(path)[\(i)]", owner: owner, allowSteps: allowSteps, rollback: rollback, items: items, onStep: onStep)
            }
        case .object(let fields):
            for key in fields.keys.sorted() {
                checkValue(
                    fields[key]!, path: "\(path).\(key)", owner: owner, allowSteps: allowSteps, rollback: rollback, items: items, onStep: onStep)
            }
        default: break
        }
    }

    /// Checks one reference; returns the referenced step, if any.
    @discardableResult
    mutating func checkReference(
        _ located: LocatedReference, text: String, path: String, owner: Int?, allowSteps: Bool, rollback: Bool = false,
        items: Bool = false, onStep: (Int) -> Void
    ) -> (step: Int, field: String)? {
        let at = sourceMap?.location(of: path, offset: located.offset, in: text)
        let ref = located.reference
        if let owner, checkItemReference(ref, owner: owner, items: items, path: path, location: at) { return nil }
        let ownerID = owner.map { workflow.steps[$0].id }
        switch ref.target(stepIDs: stepIDSet, variables: variables) {
        case .step(let id, let field, _):
            guard let target = index[id] else {
                guard !isFull else { return nil }
                error(
                    .unknownReference, "${\(ref)} refers to unknown step '\(id)'\(DidYouMean.hint(id, among: index.keys))",
                    path: path, location: at)
                return nil
            }
            if !allowSteps {
                error(.unknownReference, "${\(ref)}: step outputs cannot be used here; triggers run before any step", path: path, location: at)
                return nil
            }
            if id == ownerID, !rollback {
                error(.unknownReference, "${\(ref)}: step '\(id)' cannot read its own result before it has run", path: path, location: at)
                return nil
            }
            if !rollback { onStep(target) }
            return (target, field)
        case .unknown(let head):
            guard !isFull else { return nil }
            let candidates = Array(index.keys) + Array(variables)
            let hint =
                DidYouMean.nearest(head, among: candidates).map { "; did you mean '\($0)'?" }
                ?? "; for a field of an input write ${inputs.\(ref)}"
            error(.unknownReference, "${\(ref)} refers to unknown step '\(head)'\(hint)", path: path, location: at)
        case .incomplete(let namespace):
            let example = namespace == "secrets" ? "${secrets.NAME}" : namespace == "steps" ? "${steps.ID.FIELD}" : "${\(namespace).NAME}"
            error(.invalidReference, "${\(ref)} is incomplete; write \(example)", path: path, location: at)
        case .input(let name, _):
            if !variables.contains(name) {
                undeclaredInputs.append((name, path, located.offset, text))
            }
        case .secret, .execution, .workflow, .trigger:
            break
        }
        return nil
    }

    mutating func checkCondition(_ condition: String, owner: Int, path: String, implicit: inout Set<Int>) {
        var parser = ExpressionParser(condition)
        do {
            let parsed = try parser.parse()
            conditions[owner] = parsed.expression
            for ref in parsed.references {
                if let (target, field) = checkReference(
                    ref, text: condition, path: path, owner: owner, allowSteps: true, onStep: { implicit.insert($0) }),
                    StepResult.statusFields.contains(field), ref.reference.components.count == 2 || ref.reference.head == "steps"
                {
                    statusReads[owner].insert(target)
                }
            }
        } catch {
            self.error(
                .invalidCondition, "condition does not parse: \(error.message)", path: path,
                location: sourceMap?.location(of: path, offset: error.offset ?? 0, in: condition))
        }
    }

    // MARK: Retry policies

    mutating func checkRetryPolicy(_ policy: RetryPolicy, path: String, stepTimeout: Duration?) {
        if policy.maxAttempts < 1 {
            error(
                .invalidRetryPolicy, "maxAttempts counts every attempt including the first, so it must be at least 1, not \(policy.maxAttempts)",
                path: "\(path).maxAttempts")
        } else if policy.maxAttempts > WorkflowValidator.maximumAttempts {
            error(
                .invalidRetryPolicy, "maxAttempts \(policy.maxAttempts) is more than the limit of \(WorkflowValidator.maximumAttempts)",
                path: "\(path).maxAttempts")
        }
        if policy.maxDelay < policy.initialDelay {
            error(
                .invalidRetryPolicy,
                "maxDelay (\(DurationText.format(policy.maxDelay))) is shorter than initialDelay (\(DurationText.format(policy.initialDelay)))",
                path: "\(path).maxDelay")
        }
        if !(policy.multiplier > 0) || !policy.multiplier.isFinite {
            error(.invalidRetryPolicy, "multiplier must be a positive number", path: "\(path).multiplier")
        } else if policy.backoffStrategy == .exponential, policy.multiplier < 1 {
            error(
                .invalidRetryPolicy,
                "an exponential backoff with multiplier \(JSONValue.format(policy.multiplier)) would shrink the delays; use a multiplier of at least 1",
                path: "\(path).multiplier")
        }
        if policy.maxAttempts > 1, policy.retryOn.isEmpty {
            error(
                .invalidRetryPolicy,
                "retryOn is empty, so none of the \(policy.maxAttempts) attempts would ever be retried; list failure and/or timeout",
                path: "\(path).retryOn")
        }
        if policy.retryOn == [.timeout], stepTimeout == nil, policy.maxAttempts > 1, !path.hasPrefix("retryPolicy") {
            error(.invalidRetryPolicy, "the policy retries only on timeout, but the step has no timeout", path: "\(path).retryOn")
        }
        if let workflowTimeout = workflow.timeout, policy.jitter == .none, policy.maxAttempts > 1,
            policy.maxAttempts <= WorkflowValidator.maximumAttempts
        {
            var waiting = Duration.zero
            for attempt in 1..<policy.maxAttempts { waiting += policy.baseDelay(afterAttempt: attempt) }
            if waiting >= workflowTimeout {
                warning(
                    .invalidRetryPolicy,
                    "the delays between the \(policy.maxAttempts) attempts add up to \(DurationText.format(waiting)), longer than the workflow timeout (\(DurationText.format(workflowTimeout))): the last attempts can never run",
                    path: "\(path).maxAttempts")
            }
        }
    }
}

extension ValidationContext {
    /// An action must be in the catalog, fit the step type and get the inputs it needs.
    mutating func checkAction(_ name: String?, type: StepType, inputs: [String: JSONValue], path: String) {
        guard let name else { return }
        guard let action = actions[name] else {
            let hint = DidYouMean.hint(name, among: actions.names)
            error(.unknownAction, "unknown action '\(name)'\(hint); known actions: \(actions.names.joined(separator: ", "))", path: "\(path).action")
            return
        }
        // What the action fixes wins over the step's type: it can run. A missing input is only
        // missing for a real run (a template or a later edit may supply it): the step fails then,
        // saying which input it needs.
        if let expected = action.type, expected != type {
            warning(
                .invalidAction, "action '\(name)' runs as a \(expected.rawValue) step; the step's type \(type.rawValue) is ignored",
                path: "\(path).type")
        }
        for input in action.required where inputs[input] == nil && action.defaults[input] == nil {
            warning(
                .missingField, "action '\(name)' needs input '\(input)' to run; without it the step fails",
                path: present("\(path).inputs") ? "\(path).inputs" : "\(path).action")
        }
    }
}

extension WorkflowValidator {
    /// A queue's name: what `novacron worker --queue` accepts too.
    public static func isQueueName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, first.isASCIIAlphanumeric else { return false }
        return bytes.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
