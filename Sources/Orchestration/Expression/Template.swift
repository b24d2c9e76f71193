/// A string with `${…}` references in it, parsed once: `"kubectl apply -f ${manifest}"`.
///
/// `$${` writes a literal `${`. A string that is exactly one reference keeps the value's type
/// when rendered; otherwise values are spliced as text (``JSONValue/text``).
///
/// ```swift
/// let t = try Template("image=${build.image}:${tag}")
/// let s = try t.render { ref in values[ref.description] }   // .string("image=app:1.2")
/// ```
package struct Template: Sendable, Hashable {
    /// A piece of a template.
    package enum Part: Sendable, Hashable {
        case text(String)
        /// A reference and the offset of its `${` in the source.
        case reference(Reference, offset: Int)
    }

    package var parts: [Part]

    /// Parses `source`; errors carry the offset of the problem.
    package init(_ source: String) throws(ExpressionError) {
        var parts: [Part] = []
        let chars = Array(source.unicodeScalars)
        var text = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            if chars[i] == "$", i + 2 < chars.count, chars[i + 1] == "$", chars[i + 2] == "{" {
                text.append(contentsOf: ["$", "{"])
                i += 3
                continue
            }
            if chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{" {
                let start = i
                var j = i + 2
                while j < chars.count, chars[j] != "}" { j += 1 }
                guard j < chars.count else {
                    throw ExpressionError("'${' at column \(start + 1) is not closed with '}' (write $${ for a literal ${)", offset: start)
                }
                let path = String(String.UnicodeScalarView(chars[(i + 2)..<j]))
                let reference: Reference
                do {
                    reference = try Reference(parsing: path)
                } catch {
                    throw ExpressionError(error.message, offset: i + 2 + (error.offset ?? 0))
                }
                if !text.isEmpty {
                    parts.append(.text(String(text)))
                    text = String.UnicodeScalarView()
                }
                parts.append(.reference(reference, offset: start))
                i = j + 1
                continue
            }
            text.append(chars[i])
            i += 1
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        self.parts = parts
    }

    /// Every reference with its offset, in order.
    package var references: [LocatedReference] {
        parts.compactMap {
            if case .reference(let r, let offset) = $0 { return LocatedReference(reference: r, offset: offset) }
            return nil
        }
    }

    /// `true` when the template has no references.
    package var isLiteral: Bool { references.isEmpty }

    /// Renders the template: the typed value for a lone reference, else text.
    package func render(resolve: ExpressionEvaluator.Resolver) throws -> JSONValue {
        if parts.count == 1, case .reference(let r, _) = parts[0] { return try resolve(r) ?? .null }
        var out = ""
        for part in parts {
            switch part {
            case .text(let s): out += s
            case .reference(let r, _): out += (try resolve(r) ?? .null).text
            }
        }
        return .string(out)
    }
}
