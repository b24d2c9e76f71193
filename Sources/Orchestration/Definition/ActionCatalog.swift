import Foundation
import Yams

/// A named action: what a step's `action:` field refers to.
///
/// An action is data over a step type: the type it runs as, the inputs it needs, defaults for
/// the rest, and input and output templates in which `{{name}}` stands for the step's (resolved)
/// input `name`. An argument that is exactly `"{{name}}"` is replaced by the value's text as one
/// argument, never split or interpreted by a shell.
///
/// ```yaml
/// # my-actions.yaml — passed with `novacron run --actions my-actions.yaml`
/// actions:
///   helm-upgrade:
///     type: task
///     description: Upgrade a Helm release
///     required: [release, chart]
///     defaults: {namespace: default}
///     inputs: {args: [helm, upgrade, --install, "{{release}}", "{{chart}}", -n, "{{namespace}}"]}
///     outputs: {release: "{{release}}"}
/// ```
public struct ActionDefinition: Sendable, Hashable {
    public var name: String
    /// The step type the action runs as; `nil` for any type (`noop`).
    public var type: StepType?
    public var description: String
    /// Inputs the step must give (or the defaults supply).
    public var required: [String]
    /// Inputs used when the step does not give them.
    public var defaults: [String: JSONValue]
    /// Inputs the action sets, rendered from the step's inputs; they win over the step's.
    public var inputs: [String: JSONValue]
    /// Outputs added on success, rendered from the step's inputs.
    public var outputs: [String: JSONValue]

    public init(
        name: String, type: StepType?, description: String, required: [String] = [],
        defaults: [String: JSONValue] = [:], inputs: [String: JSONValue] = [:], outputs: [String: JSONValue] = [:]
    ) {
        self.name = name
        self.type = type
        self.description = description
        self.required = required
        self.defaults = defaults
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The step's inputs with defaults filled in and the action's own inputs applied.
    public func apply(to stepInputs: [String: JSONValue]) throws(ActionError) -> [String: JSONValue] {
        var merged = defaults
        merged.merge(stepInputs) { _, step in step }
        for name in required where merged[name] == nil || merged[name] == .null {
            throw ActionError(message: "action '\(self.name)' needs input '\(name)'")
        }
        for (key, template) in inputs {
            merged[key] = try Self.render(template, with: merged, action: self.name)
        }
        return merged
    }

    /// The outputs this action adds on success.
    public func renderOutputs(inputs: [String: JSONValue]) throws(ActionError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, template) in outputs { out[key] = try Self.render(template, with: inputs, action: name) }
        return out
    }

    static func render(_ value: JSONValue, with inputs: [String: JSONValue], action: String) throws(ActionError) -> JSONValue {
        switch value {
        case .string(let s):
            guard s.contains("{{") else { return value }
            var out = ""
            var rest = Substring(s)
            while let open = rest.range(of: "{{") {
                out += rest[..<open.lowerBound]
                guard let close = rest[open.upperBound...].range(of: "}}") else {
                    throw ActionError(message: "action '\(action)': unclosed '{{' in \"\(s)\"")
                }
                let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                guard let v = inputs[name], v != .null else {
                    throw ActionError(message: "action '\(action)' needs input '\(name)'")
                }
                out += v.text
                rest = rest[close.upperBound...]
            }
            out += rest
            return .string(out)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items { out.append(try render(item, with: inputs, action: action)) }
            return .array(out)
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (k, v) in fields { out[k] = try render(v, with: inputs, action: action) }
            return .object(out)
        default:
            return value
        }
    }
}

/// A problem with an action: unknown, or missing an input it needs.
public struct ActionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The actions steps may name: the built-in ones, plus those of the user's catalog files.
public struct ActionCatalog: Sendable {
    public private(set) var actions: [String: ActionDefinition]

    public init(_ actions: [ActionDefinition]) {
        self.actions = Dictionary(actions.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public subscript(name: String) -> ActionDefinition? { actions[name] }

    /// Names in alphabetical order.
    public var names: [String] { actions.keys.sorted() }

    /// Adds or replaces actions.
    public mutating func merge(_ other: ActionCatalog) {
        actions.merge(other.actions) { _, new in new }
    }

    /// The actions NovaCron ships with.
    public static let builtIn = ActionCatalog([
        ActionDefinition(name: "shell", type: .task, description: "Run `command` with /bin/sh, or exec `args`"),
        ActionDefinition(name: "noop", type: nil, description: "Do nothing and succeed (placeholders, benchmarks)"),
        ActionDefinition(
            name: "http", type: .api, description: "Send an HTTP request to `url`", required: ["url"],
            defaults: ["method": "GET"]),
        ActionDefinition(
            name: "health-check", type: .wait, description: "Poll `url` until it answers `expectedStatus`",
            required: ["url"], defaults: ["expectedStatus": 200, "interval": "2s"]),
        ActionDefinition(name: "sleep", type: .wait, description: "Wait for `duration`", required: ["duration"]),
        ActionDefinition(
            name: "docker-build", type: .container, description: "Build `image:tag` from `dockerfile` in `context`",
            required: ["image"], defaults: ["tag": "latest", "dockerfile": "Dockerfile", "context": "."],
            inputs: ["args": ["build", "-t", "{{image}}:{{tag}}", "-f", "{{dockerfile}}", "{{context}}"]],
            outputs: ["image": "{{image}}:{{tag}}"]),
        ActionDefinition(
            name: "docker-run", type: .container, description: "Run `command` in a new container of `image`",
            required: ["image", "command"],
            inputs: ["args": ["run", "--rm", "{{image}}", "sh", "-c", "{{command}}"]]),
        ActionDefinition(
            name: "registry-push", type: .container, description: "Push `image` to its registry",
            required: ["image"], inputs: ["args": ["push", "{{image}}"]], outputs: ["image_url": "{{image}}"]),
        ActionDefinition(
            name: "kubectl-apply", type: .task, description: "kubectl apply -f `manifest`", required: ["manifest"],
            inputs: ["args": ["kubectl", "apply", "-f", "{{manifest}}"]]),
    ])
}

extension ActionCatalog {
    /// Reads a catalog file: `actions: {name: {type, description, required, defaults, inputs, outputs}}`.
    public static func load(contentsOf path: String) throws(ActionError) -> ActionCatalog {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ActionError(message: "\(path): cannot read the action catalog: \(error.localizedDescription)")
        }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw ActionError(message: "\(path): not valid YAML or JSON: \(error)")
        }
        guard let top = root as? [String: Any], let entries = top["actions"] as? [String: Any] else {
            throw ActionError(message: "\(path): expected a map with key 'actions'")
        }
        var definitions: [ActionDefinition] = []
        for (name, raw) in entries.sorted(by: { $0.key < $1.key }) {
            guard let fields = raw as? [String: Any] else {
                throw ActionError(message: "\(path): actions.\(name): expected a map")
            }
            for key in fields.keys where !["type", "description", "required", "defaults", "inputs", "outputs"].contains(key) {
                throw ActionError(message: "\(path): actions.\(name).\(key): unknown field")
            }
            var type: StepType?
            if let t = fields["type"] {
                guard let s = t as? String, let parsed = StepType(fileName: s) else {
                    throw ActionError(message: "\(path): actions.\(name).type: expected one of task, container, api, wait, lambda")
                }
                type = parsed
            }
            func map(_ key: String) throws(ActionError) -> [String: JSONValue] {
                guard let v = fields[key] else { return [:] }
                guard case .object(let o) = JSONValue(yamlObject: v) else {
                    throw ActionError(message: "\(path): actions.\(name).\(key): expected a map")
                }
                return o
            }
            let required = (fields["required"] as? [Any])?.compactMap { $0 as? String } ?? []
            definitions.append(
                ActionDefinition(
                    name: name, type: type, description: fields["description"] as? String ?? "",
                    required: required, defaults: try map("defaults"), inputs: try map("inputs"), outputs: try map("outputs")))
        }
        return ActionCatalog(definitions)
    }
}

extension JSONValue {
    /// Converts what Yams' untyped loader returns.
    public init(yamlObject: Any) {
        switch yamlObject {
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(Double(i))
        case let d as Double: self = .number(d)
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map(JSONValue.init(yamlObject:)))
        case let m as [String: Any]: self = .object(m.mapValues(JSONValue.init(yamlObject:)))
        default: self = .null
        }
    }
}
