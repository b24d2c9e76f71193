/// The path inside a `${…}`: `build.image`, `inputs.branch`, `trigger.commits[0].id`, `secrets.TOKEN`.
///
/// Paths are dot-separated names made of `[A-Za-z0-9_-]`, with optional `[n]` list indexes.
package struct Reference: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    package enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    package var components: [Component]

    package init(components: [Component]) {
        self.components = components
    }

    /// Parses the text between `${` and `}`. Offsets in errors are relative to `path`.
    package init(parsing path: String) throws(ExpressionError) {
        var components: [Component] = []
        let chars = Array(path.unicodeScalars)
        var i = 0
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
        }
        func name() throws(ExpressionError) -> String {
            let start = i
            while i < chars.count, isNameChar(chars[i]) { i += 1 }
            guard i > start else {
                if i < chars.count {
                    throw ExpressionError("unexpected '\(chars[i])' in reference '${\(path)}'; names use letters, digits, '_' and '-'", offset: i)
                }
                throw ExpressionError("reference '${\(path)}' ends where a name is expected", offset: i)
            }
            return String(String.UnicodeScalarView(chars[start..<i]))
        }
        while i < chars.count, chars[i] == " " { i += 1 }
        components.append(.key(try name()))
        while i < chars.count {
            if chars[i] == "." {
                i += 1
                components.append(.key(try name()))
            } else if chars[i] == "[" {
                i += 1
                let start = i
                while i < chars.count, ("0"..."9").contains(chars[i]) { i += 1 }
                guard i > start, i < chars.count, chars[i] == "]",
                    let n = Int(String(String.UnicodeScalarView(chars[start..<i])))
                else { throw ExpressionError("expected a list index like [0] in reference '${\(path)}'", offset: start) }
                i += 1
                components.append(.index(n))
            } else if chars[i] == " " {
                while i < chars.count, chars[i] == " " { i += 1 }
                if i < chars.count {
                    throw ExpressionError("unexpected '\(chars[i])' in reference '${\(path)}'", offset: i)
                }
            } else {
                throw ExpressionError("unexpected '\(chars[i])' in reference '${\(path)}'; names use letters, digits, '_' and '-'", offset: i)
            }
        }
        self.components = components
    }

    /// The path as written: `a.b[0].c`.
    package var description: String {
        var out = ""
        for (i, c) in components.enumerated() {
            switch c {
            case .key(let k): out += i == 0 ? k : "." + k
            case .index(let n): out += "[\(n)]"
            }
        }
        return out
    }

    /// The first name of the path.
    package var head: String {
        if case .key(let k) = components[0] { return k }
        return ""
    }

    /// The reference as `${…}` text.
    package var template: String { "${\(description)}" }
}

/// What a reference points at, given the workflow's step ids and variables.
package enum ReferenceTarget: Sendable, Hashable {
    /// An execution input or workflow variable, with the path inside it.
    case input(name: String, path: [Reference.Component])
    /// A step's output or result field, with the path inside it.
    case step(id: String, field: String, path: [Reference.Component])
    case secret(name: String)
    case execution(path: [Reference.Component])
    case workflow(path: [Reference.Component])
    case trigger(path: [Reference.Component])
    /// A dotted path whose head is neither a step, a variable nor a namespace.
    case unknown(head: String)
    /// A namespace used without the name it needs (`${secrets}`).
    case incomplete(namespace: String)

    /// Namespaces that step ids may not take.
    package static let namespaces: Set<String> = ["inputs", "secrets", "execution", "workflow", "trigger", "steps", "env"]
}

extension Reference {
    /// Resolves what this reference points at.
    ///
    /// `${x}` is input or variable `x`; `${x.y}` is field `y` of step `x` when `x` is a step,
    /// the path `y` inside variable `x` when `x` is a variable, and unknown otherwise.
    package func target(stepIDs: Set<String>, variables: Set<String> = []) -> ReferenceTarget {
        let head = self.head
        let rest = Array(components.dropFirst())
        func key(_ c: Reference.Component?) -> String? {
            if case .key(let k)? = c { return k }
            return nil
        }
        switch head {
        case "inputs":
            guard let name = key(rest.first) else { return .incomplete(namespace: head) }
            return .input(name: name, path: Array(rest.dropFirst()))
        case "secrets":
            guard let name = key(rest.first), rest.count == 1 else { return .incomplete(namespace: head) }
            return .secret(name: name)
        case "execution":
            return rest.isEmpty ? .incomplete(namespace: head) : .execution(path: rest)
        case "workflow":
            return rest.isEmpty ? .incomplete(namespace: head) : .workflow(path: rest)
        case "trigger":
            return .trigger(path: rest)
        case "steps":
            guard let id = key(rest.first), let field = key(rest.dropFirst().first) else {
                return .incomplete(namespace: head)
            }
            return .step(id: id, field: field, path: Array(rest.dropFirst(2)))
        default:
            if rest.isEmpty { return .input(name: head, path: []) }
            if stepIDs.contains(head), let field = key(rest.first) {
                return .step(id: head, field: field, path: Array(rest.dropFirst()))
            }
            if variables.contains(head) { return .input(name: head, path: rest) }
            return .unknown(head: head)
        }
    }
}
