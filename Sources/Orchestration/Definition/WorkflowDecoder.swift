import Foundation
import Yams

/// Turns YAML or JSON text into a ``Workflow``, collecting every problem with its location.
///
/// Unknown fields are errors with a "did you mean" hint. Durations follow ``DurationText``.
/// Booleans are YAML 1.2's (`true`/`false`; `yes`, `no`, `on`, `off` stay text).
///
/// ```swift
/// let result = WorkflowDecoder().decode(text, file: "deploy.yaml")
/// for error in result.errors { print(error) }   // deploy.yaml:7:5: error: …
/// ```
public struct WorkflowDecoder: Sendable {
    /// The most steps a workflow may have.
    public static let maximumSteps = 100_000
    /// The largest definition accepted by default, in bytes: 32 MiB, room for ``maximumSteps``
    /// steps of about 300 bytes each (a realistic 100,000-step file is 10–15 MB).
    public static let defaultMaximumBytes = 32 * 1024 * 1024
    /// The limit in effect when none is given: `NOVACRON_MAX_DEFINITION_BYTES` when set to a
    /// positive number, else ``defaultMaximumBytes``. The CLI and the server both start from it.
    public static let configuredMaximumBytes: Int = maximumBytes(environment: ProcessInfo.processInfo.environment)

    /// `NOVACRON_MAX_DEFINITION_BYTES` from `environment`, else the default.
    public static func maximumBytes(environment: [String: String]) -> Int {
        environment["NOVACRON_MAX_DEFINITION_BYTES"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? defaultMaximumBytes
    }

    /// `bytes` as people read a size: `32 MiB`, `4.5 MiB`, `900 KiB`.
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20 {
            let mib = Double(bytes) / Double(1 << 20)
            return mib == mib.rounded() ? "\(Int(mib)) MiB" : String(format: "%.1f MiB", mib)
        }
        return bytes >= 1024 ? "\(bytes / 1024) KiB" : "\(bytes) bytes"
    }

    /// The largest definition this decoder accepts, in bytes.
    public var maximumBytes: Int
    /// The deepest `[`/`{` nesting accepted, checked before parsing.
    public static let maximumFlowDepth = 256

    /// What decoding produced: a workflow when the text had the right shape, and every error found.
    public struct Result: Sendable {
        public var workflow: Workflow?
        public var sourceMap: SourceMap
        public var errors: [DefinitionError]
    }

    static let workflowFields = [
        "id", "name", "description", "version", "timeout", "maxParallelism", "variables", "retryPolicy",
        "failFast", "steps", "triggers", "outputs", "concurrency", "$schema",
    ]
    static let stepFields = [
        "id", "name", "description", "type", "action", "inputs", "dependencies", "condition", "timeout",
        "retryPolicy", "parallel", "continueOnFailure", "cache", "idempotent", "estimatedDuration", "rollback",
        "outputs", "queue", "forEach", "maxConcurrency", "toleratedFailures", "toleratedFailurePercentage", "workflow", "version", "onTimeout",
        "concurrency",
    ]
    static let bodyFields = ["type", "action", "inputs", "timeout", "retryPolicy"]
    static let retryFields = ["maxAttempts", "backoffStrategy", "initialDelay", "maxDelay", "multiplier", "jitter", "retryOn"]
    static let cacheFields = ["enabled", "ttl"]
    static let triggerFields = [
        "id", "type", "source", "conditions", "enabled", "schedule", "timezone", "missedTicks", "jitter", "secret",
        "event", "inputs",
    ]

    static let resolver: Resolver = {
        // YAML 1.2 booleans only: `on`, `yes`, `no` stay strings.
        let bool = try! Resolver.Rule(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
        return Resolver.default.removing(.bool).appending(bool)
    }()

    public init(maximumBytes: Int = WorkflowDecoder.configuredMaximumBytes) {
        self.maximumBytes = maximumBytes
    }

    /// Decodes `source`, naming `file` in locations.
    ///
    /// JSON takes a fast path (``JSONNodeParser``): its locations are found only if a
    /// diagnostic asks for one. Text that path does not accept, and YAML, are read with Yams.
    public func decode(_ source: String, file: String) -> Result {
        if source.utf8.count > maximumBytes {
            var sourceMap = SourceMap(file: file)
            let start = SourceLocation(file: file, line: 1, column: 1)
            sourceMap.values[""] = start
            return Result(
                workflow: nil, sourceMap: sourceMap,
                errors: [
                    DefinitionError(
                        .tooLarge,
                        "definition is \(source.utf8.count) bytes; the limit is \(maximumBytes) (\(Self.describe(bytes: maximumBytes))); set NOVACRON_MAX_DEFINITION_BYTES to change it",
                        path: "", location: start)
                ])
        }
        if JSONNodeParser.looksLikeJSON(source), let root = JSONNodeParser.parse(source) {
            // Locations are found when a diagnostic first needs one, by reading the text as YAML
            // (JSON that libyaml cannot read — \u0000, surrogate pairs — then places it at 1:1).
            let decoder = self
            let sourceMap = SourceMap(file: file) {
                let yaml = decoder.decodeYAML(source, file: file)
                var map = yaml.sourceMap
                map.complete = yaml.workflow != nil
                return map
            }
            var reader = NodeReader(file: file, source: source, fallback: sourceMap)
            let workflow = Self.readWorkflow(root, reader: &reader)
            let tooLarge = reader.errors.contains { $0.code == .tooLarge }
            return Result(workflow: tooLarge ? nil : workflow, sourceMap: sourceMap, errors: reader.errors)
        }
        return decodeYAML(source, file: file)
    }

    /// Decodes `source` with Yams, recording every location as it goes.
    func decodeYAML(_ source: String, file: String) -> Result {
        var sourceMap = SourceMap(file: file)
        let start = SourceLocation(file: file, line: 1, column: 1)
        sourceMap.values[""] = start
        if let deep = Self.excessiveFlowNesting(source, file: file) {
            return Result(workflow: nil, sourceMap: sourceMap, errors: [deep])
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: source, Self.resolver) else {
                return Result(
                    workflow: nil, sourceMap: sourceMap,
                    errors: [
                        DefinitionError(
                            .missingField, "the file is empty; a workflow needs at least 'name' and 'steps'", path: "", location: start)
                    ])
            }
            root = node
        } catch {
            return Result(workflow: nil, sourceMap: sourceMap, errors: [Self.syntaxError(error, file: file)])
        }
        if AliasBudget.expandsBeyond(root, sourceBytes: source.utf8.count) {
            return Result(
                workflow: nil, sourceMap: sourceMap,
                errors: [
                    DefinitionError(
                        .tooLarge,
                        "the document expands to more than \(AliasBudget.budget(sourceBytes: source.utf8.count)) values through its aliases (an alias bomb?); write the values out instead of nesting aliases of aliases",
                        path: "", location: start)
                ])
        }
        var reader = NodeReader(file: file, source: source)
        let workflow = Self.readWorkflow(DefinitionNode(yaml: root), reader: &reader)
        // A definition over a size limit is not validated further: the rest would be noise.
        let tooLarge = reader.errors.contains { $0.code == .tooLarge }
        return Result(workflow: tooLarge ? nil : workflow, sourceMap: reader.sourceMap, errors: reader.errors)
    }

    // MARK: Workflow

    static func readWorkflow(_ root: DefinitionNode, reader r: inout NodeReader) -> Workflow? {
        guard let fields = r.fields(root, path: "", known: workflowFields, what: "a workflow") else { return nil }
        var workflow = Workflow(name: "", steps: [])
        var explicitID: String?
        var sawName = false, sawSteps = false
        for (key, node) in fields {
            switch key {
            case "id": explicitID = r.string(node, path: key)
            case "name":
                sawName = true
                workflow.name = r.string(node, path: key) ?? node.scalar?.text ?? ""
            case "description": workflow.description = r.string(node, path: key)
            case "version": workflow.version = r.string(node, path: key, numbers: true)
            case "timeout": workflow.timeout = r.duration(node, path: key)
            case "maxParallelism": workflow.maxParallelism = r.int(node, path: key)
            case "variables": workflow.variables = r.object(node, path: key, what: "variables")
            case "outputs": workflow.outputs = r.object(node, path: key, what: "outputs")
            case "concurrency": workflow.concurrency = readConcurrency(node, path: key, reader: &r)
            case "retryPolicy": workflow.retryPolicy = readRetryPolicy(node, path: key, reader: &r)
            case "failFast": workflow.failFast = r.bool(node, path: key) ?? false
            case "steps":
                sawSteps = true
                workflow.steps = readSteps(node, reader: &r)
            case "triggers":
                for (i, item) in (r.sequence(node, path: key, what: "triggers") ?? []).enumerated() {
                    if let t = readTrigger(item, path: "triggers[\(i)]", index: i, reader: &r) { workflow.triggers.append(t) }
                }
            default: break  // "$schema"
            }
        }
        if !sawName {
            r.error(.missingField, "a workflow needs a 'name'", path: "name", at: root)
        }
        if !sawSteps {
            r.error(.missingField, "a workflow needs 'steps' (a list with at least one step)", path: "steps", at: root)
        }
        workflow.id = explicitID ?? Workflow.deriveID(from: workflow.name)
        return workflow
    }

    static func readSteps(_ node: DefinitionNode, reader r: inout NodeReader) -> [WorkflowStep] {
        guard let items = r.sequence(node, path: "steps", what: "steps") else { return [] }
        guard items.count <= maximumSteps else {
            r.error(.tooLarge, "the workflow has \(items.count) steps; the limit is \(maximumSteps)", path: "steps", at: node)
            return []
        }
        var steps: [WorkflowStep] = []
        steps.reserveCapacity(items.count)
        var derived: [Int] = []
        for (i, item) in items.enumerated() {
            guard let (step, idFromName) = readStep(item, path: "steps[\(i)]", reader: &r) else { continue }
            if idFromName { derived.append(steps.count) }
            steps.append(step)
        }
        if !derived.isEmpty { makeDerivedIDsUnique(&steps, derived: derived) }
        return steps
    }

    /// Ids derived from names (`Deploy to AWS` → `deploy-to-aws`) get `-2`, `-3`… where they
    /// would repeat another id; written ids are left as they are.
    static func makeDerivedIDsUnique(_ steps: inout [WorkflowStep], derived: [Int]) {
        let derivedSet = Set(derived)
        var taken = Set(steps.indices.filter { !derivedSet.contains($0) }.map { steps[$0].id })
        for i in derived {
            let base = steps[i].id
            var candidate = base, n = 1
            while taken.contains(candidate) {
                n += 1
                candidate = "\(base)-\(n)"
            }
            steps[i].id = candidate
            taken.insert(candidate)
        }
    }

    // MARK: Steps

    /// The step, and whether its id was derived from its name (the guide's steps often have only
    /// a `name`).
    static func readStep(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> (WorkflowStep, Bool)? {
        guard let fields = r.fields(node, path: path, known: stepFields, what: "a step") else { return nil }
        var step = WorkflowStep(id: "")
        var sawID = false
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "id":
                sawID = true
                // A mistyped id (`id: 42`) is reported once; its text still names the step for the checks after.
                step.id = r.string(value, path: p) ?? value.scalar?.text ?? ""
            case "name": step.name = r.string(value, path: p)
            case "description": step.description = r.string(value, path: p)
            case "type": step.type = readStepType(value, path: p, reader: &r) ?? .task
            case "action": step.action = r.string(value, path: p)
            case "inputs": step.inputs = r.object(value, path: p, what: "inputs")
            case "dependencies": step.dependencies = r.stringList(value, path: p, what: "dependencies")
            case "condition": step.condition = r.string(value, path: p)
            case "timeout": step.timeout = r.duration(value, path: p)
            case "retryPolicy": step.retryPolicy = readRetryPolicy(value, path: p, reader: &r)
            case "parallel": step.parallel = r.bool(value, path: p) ?? true
            case "continueOnFailure": step.continueOnFailure = r.bool(value, path: p) ?? false
            case "cache": step.cache = readCache(value, path: p, reader: &r)
            case "idempotent": step.idempotent = r.bool(value, path: p) ?? false
            case "estimatedDuration": step.estimatedDuration = r.duration(value, path: p)
            case "rollback": step.rollback = readBody(value, path: p, reader: &r)
            case "outputs": step.outputs = r.stringList(value, path: p, what: "outputs")
            case "queue": step.queue = r.string(value, path: p)
            case "forEach": step.forEach = r.value(value, path: p)
            case "maxConcurrency": step.maxConcurrency = r.int(value, path: p)
            case "toleratedFailures": step.toleratedFailures = r.int(value, path: p)
            case "toleratedFailurePercentage": step.toleratedFailurePercentage = r.number(value, path: p)
            case "workflow": step.workflow = r.string(value, path: p)
            case "version": step.workflowVersion = r.string(value, path: p, numbers: true)
            case "onTimeout": step.onTimeout = r.string(value, path: p)
            case "concurrency": step.concurrency = readConcurrency(value, path: p, reader: &r)
            default: break
            }
        }
        // `workflow: <id>` makes a workflow step unless the type says otherwise (the validator refuses that).
        if step.workflow != nil, !fields.contains(where: { $0.0 == "type" }) { step.type = .workflow }
        if !sawID {
            let derived = step.name.map(Workflow.deriveID(from:)) ?? ""
            guard derived.isEmpty else {
                step.id = derived
                return (step, true)
            }
            r.error(.missingField, "a step needs an 'id' (or a 'name' to derive one from)", path: "\(path).id", at: node)
        }
        return (step, false)
    }

    static func readStepType(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> StepType? {
        guard let text = r.string(node, path: path) else { return nil }
        if let type = StepType(fileName: text) { return type }
        r.error(
            .invalidValue,
            "unknown step type '\(text)'\(DidYouMean.unknownChoice(text, among: StepType.fileNames))",
            path: path, at: node)
        return nil
    }

    static func readBody(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> StepBody? {
        guard let fields = r.fields(node, path: path, known: bodyFields, what: "a rollback") else { return nil }
        var body = StepBody()
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "type": body.type = readStepType(value, path: p, reader: &r) ?? .task
            case "action": body.action = r.string(value, path: p)
            case "inputs": body.inputs = r.object(value, path: p, what: "inputs")
            case "timeout": body.timeout = r.duration(value, path: p)
            case "retryPolicy": body.retryPolicy = readRetryPolicy(value, path: p, reader: &r)
            default: break
            }
        }
        return body
    }

    static func readRetryPolicy(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> RetryPolicy? {
        guard let fields = r.fields(node, path: path, known: retryFields, what: "a retry policy") else { return nil }
        var policy = RetryPolicy()
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "maxAttempts": policy.maxAttempts = r.int(value, path: p) ?? policy.maxAttempts
            case "backoffStrategy":
                policy.backoffStrategy = r.enumeration(value, path: p, what: "backoff strategy") ?? policy.backoffStrategy
            case "initialDelay": policy.initialDelay = r.duration(value, path: p) ?? policy.initialDelay
            case "maxDelay": policy.maxDelay = r.duration(value, path: p) ?? policy.maxDelay
            case "multiplier": policy.multiplier = r.number(value, path: p) ?? policy.multiplier
            case "jitter": policy.jitter = r.enumeration(value, path: p, what: "jitter") ?? policy.jitter
            case "retryOn":
                var set = Set<RetryPolicy.RetryOn>()
                if case .sequence(let items, _) = value {
                    for (i, item) in items.enumerated() {
                        if let v: RetryPolicy.RetryOn = r.enumeration(item, path: "\(p)[\(i)]", what: "retryOn value") { set.insert(v) }
                    }
                } else if let v: RetryPolicy.RetryOn = r.enumeration(value, path: p, what: "retryOn value") {
                    set.insert(v)
                }
                policy.retryOn = set
            default: break
            }
        }
        return policy
    }

    static func readCache(_ node: DefinitionNode, path: String, reader r: inout NodeReader) -> CachePolicy? {
        if node.kind == .bool {
            return (r.bool(node, path: path) ?? false) ? CachePolicy() : CachePolicy(enabled: false)
        }
        guard let fields = r.fields(node, path: path, known: cacheFields, what: "a cache setting") else { return nil }
        var cache = CachePolicy()
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "enabled": cache.enabled = r.bool(value, path: p) ?? true
            case "ttl": cache.ttl = r.duration(value, path: p) ?? cache.ttl
            default: break
            }
        }
        return cache
    }

    // MARK: Triggers

    static func readTrigger(_ node: DefinitionNode, path: String, index: Int, reader r: inout NodeReader) -> WorkflowTrigger? {
        guard let fields = r.fields(node, path: path, known: triggerFields, what: "a trigger") else { return nil }
        var trigger = WorkflowTrigger(id: "", type: .manual)
        var sawType = false
        for (key, value) in fields {
            let p = "\(path).\(key)"
            switch key {
            case "id": trigger.id = r.string(value, path: p) ?? value.scalar?.text ?? ""
            case "type":
                sawType = true
                trigger.type = r.enumeration(value, path: p, what: "trigger type") ?? .manual
            case "source": trigger.source = r.string(value, path: p)
            case "conditions": trigger.conditions = r.object(value, path: p, what: "conditions")
            case "enabled": trigger.enabled = r.bool(value, path: p) ?? true
            case "schedule": trigger.schedule = r.string(value, path: p)
            case "timezone": trigger.timezone = r.string(value, path: p)
            case "missedTicks": trigger.missedTicks = r.enumeration(value, path: p, what: "missed-tick policy")
            case "jitter": trigger.jitter = r.duration(value, path: p)
            case "secret": trigger.secret = r.string(value, path: p)
            case "event": trigger.event = r.string(value, path: p)
            case "inputs": trigger.inputs = r.object(value, path: p, what: "inputs")
            default: break
            }
        }
        if !sawType {
            r.error(
                .missingField, "a trigger needs a 'type' (\(TriggerType.allCases.map(\.rawValue).joined(separator: ", ")))",
                path: "\(path).type", at: node)
        }
        if trigger.id.isEmpty { trigger.id = "\(trigger.type.rawValue)-\(index + 1)" }
        return trigger
    }
}
