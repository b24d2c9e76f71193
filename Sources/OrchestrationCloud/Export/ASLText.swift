import Foundation
import Orchestration

extension ASLExporter.Exit {
    var name: String? {
        if case .next(let n) = self { return n }
        return nil
    }
}

extension Condition {
    var isAnd: Bool {
        if case .binary(.and, _, _) = self { return true }
        return false
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// JSONPath text for Step Functions.
enum JSONPath {
    static func key(_ name: String) -> String {
        let simple =
            name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
            && !(name.first?.isNumber ?? true)
        return simple ? "." + name : "['" + name + "']"
    }

    static func components(_ path: [Reference.Component]) -> String {
        path.map { c in
            switch c {
            case .key(let k): key(k)
            case .index(let n): "[\(n)]"
            }
        }.joined()
    }
}

/// Intrinsic-function text.
enum Intrinsic {
    /// Text inside `'…'` of an intrinsic: `'`, `{`, `}` and `\` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if "'{}\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// A constant as an intrinsic argument.
    static func literal(_ v: JSONValue) -> String? {
        v.expressionLiteral { "'" + escape($0) + "'" }
    }

    /// Text for StringMatches: `*` and `\` escaped.
    static func wildcardEscape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "*" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
