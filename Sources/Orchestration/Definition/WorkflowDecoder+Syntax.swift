import Yams

/// What the decoder says about text it cannot read: YAML syntax errors, and nesting too deep to parse.
extension WorkflowDecoder {
    static func syntaxError(_ error: any Error, file: String) -> DefinitionError {
        func at(_ mark: Mark?) -> SourceLocation {
            SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
        }
        guard let yaml = error as? YamlError else {
            return DefinitionError(.syntax, "cannot read the file: \(error)", path: "", location: at(nil))
        }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let ctx = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return DefinitionError(.syntax, "YAML syntax error: \(problem)\(ctx)", path: "", location: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DefinitionError(
                .syntax, "duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                path: "", location: at(context.mark))
        case .reader(let problem, let offset, _, _):
            return DefinitionError(.syntax, "cannot read the file: \(problem)\(offset.map { " at byte \($0)" } ?? "")", path: "", location: at(nil))
        default:
            return DefinitionError(.syntax, "cannot read the file: \(yaml)", path: "", location: at(nil))
        }
    }

    /// Rejects `[[[[…` nesting deep enough to exhaust the parser's stack, before parsing.
    static func excessiveFlowNesting(_ source: String, file: String) -> DefinitionError? {
        var depth = 0, line = 1, column = 0
        var quote: UInt8 = 0
        var comment = false
        var previous = UInt8(ascii: " ")
        let openers: Set<UInt8> = [
            UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: ":"), UInt8(ascii: "["),
            UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: "-"), UInt8(ascii: "\n"),
        ]
        for byte in source.utf8 {
            defer { previous = byte }
            column += 1
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
                comment = false
                continue
            }
            if comment { continue }
            if quote != 0 {
                if byte == quote { quote = 0 }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): if openers.contains(previous) { quote = byte }
            case UInt8(ascii: "#"): if previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t") { comment = true }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumFlowDepth {
                    return DefinitionError(
                        .tooLarge, "values are nested more than \(maximumFlowDepth) levels deep", path: "",
                        location: SourceLocation(file: file, line: line, column: column))
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return nil
    }
}
