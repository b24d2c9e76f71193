/// Rewrites `${…}` references in a shell command into environment-variable references, so that
/// no value can inject shell syntax.
///
/// Each distinct reference becomes a variable `NOVACRON_REF_<n>`, referenced in the way that
/// fits where the `${…}` stands:
///
/// | where                 | written as                 |
/// |-----------------------|----------------------------|
/// | bare word             | `"${NOVACRON_REF_0}"`      |
/// | inside `"…"`          | `${NOVACRON_REF_0}`        |
/// | inside `'…'`          | `'"${NOVACRON_REF_0}"'`    |
///
/// So `echo "got=${build.image}"` becomes `echo "got=${NOVACRON_REF_0}"` with `NOVACRON_REF_0`
/// set to the image name, and prints exactly the value, whatever characters it holds.
/// Heredoc bodies are treated as bare words.
package struct ShellSplice: Sendable, Hashable {
    /// One environment variable the script expects, and the reference that gives its value.
    package struct Binding: Sendable, Hashable {
        package var variable: String
        package var reference: Reference
    }

    /// The command with references rewritten.
    package var script: String
    /// The variables to set, in order of first use.
    package var bindings: [Binding]

    /// The prefix of generated variable names.
    package static let variablePrefix = "NOVACRON_REF_"

    /// Rewrites `command`.
    ///
    /// ```swift
    /// let s = try ShellSplice("echo 'tag: ${tag}' \"in ${dir}\" ${file}")
    /// // s.script == #"echo 'tag: '"${NOVACRON_REF_0}"'' "in ${NOVACRON_REF_1}" "${NOVACRON_REF_2}""#
    /// ```
    package init(_ command: String) throws(ExpressionError) {
        let template = try Template(command)
        var scanner = ShellQuoteScanner()
        var script = ""
        var bindings: [Binding] = []
        var variables: [Reference: String] = [:]
        for part in template.parts {
            switch part {
            case .text(let text):
                script += text
                scanner.feed(text)
            case .reference(let reference, _):
                let name: String
                if let existing = variables[reference] {
                    name = existing
                } else {
                    name = Self.variablePrefix + String(bindings.count)
                    variables[reference] = name
                    bindings.append(Binding(variable: name, reference: reference))
                }
                switch scanner.context {
                case .bare: script += "\"${\(name)}\""
                case .doubleQuoted: script += "${\(name)}"
                case .singleQuoted: script += "'\"${\(name)}\"'"
                }
            }
        }
        self.script = script
        self.bindings = bindings
    }
}

/// Tracks the POSIX shell quoting context across a command's text.
struct ShellQuoteScanner {
    enum Context { case bare, singleQuoted, doubleQuoted }

    private enum Frame { case bare, single, double, backtick }

    /// Innermost first-class context; `$(…)` and backticks open a new bare context.
    private var stack: [Frame] = [.bare]
    private var escaped = false
    private var dollar = false

    var context: Context {
        switch stack.last! {
        case .single: return .singleQuoted
        case .double: return .doubleQuoted
        case .bare, .backtick: return .bare
        }
    }

    mutating func feed(_ text: String) {
        for c in text.unicodeScalars { feed(c) }
    }

    private mutating func feed(_ c: Unicode.Scalar) {
        let top = stack.last!
        if escaped {
            escaped = false
            dollar = false
            return
        }
        let afterDollar = dollar
        dollar = false
        switch top {
        case .single:
            if c == "'" { stack.removeLast() }
        case .double:
            switch c {
            case "\\": escaped = true
            case "\"": stack.removeLast()
            case "$": dollar = true
            case "(" where afterDollar: stack.append(.bare)
            case "`": stack.append(.backtick)
            default: break
            }
        case .bare, .backtick:
            switch c {
            case "\\": escaped = true
            case "'": stack.append(.single)
            case "\"": stack.append(.double)
            case "$": dollar = true
            case "(": stack.append(.bare)
            case ")": if stack.count > 1, top == .bare { stack.removeLast() }
            case "`":
                if top == .backtick { stack.removeLast() } else { stack.append(.backtick) }
            default: break
            }
        }
    }
}
