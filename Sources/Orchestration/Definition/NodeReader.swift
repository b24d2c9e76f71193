import Yams

/// Reads a composed YAML tree field by field, recording locations and collecting every error.
struct NodeReader {
    /// The most scalar values one definition may expand to (guards against alias bombs).
    static let maximumValueNodes = 1_000_000
    /// The largest number a definition may hold: 2^53 − 1, beyond which numbers lose whole units.
    static let largestNumber: Double = 9_007_199_254_740_991

    let file: String
    let source: String
    /// The source's lines, split the first time a block scalar needs them.
    private var splitLines: [Substring]?
    var errors: [DefinitionError] = []
    var sourceMap: SourceMap
    private var valueNodes = 0
    private var reportedValueBudget = false

    /// Where errors are placed when the tree carries no marks (the JSON fast path): a map that
    /// finds locations when first asked.
    let fallback: SourceMap?

    init(file: String, source: String, fallback: SourceMap? = nil) {
        self.fallback = fallback
        self.file = file
        self.source = source
        self.sourceMap = SourceMap(file: file)
    }

    func location(_ node: Node) -> SourceLocation? {
        node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    mutating func error(_ code: DefinitionError.Code, _ message: String, path: String, at node: Node?) {
        let location = node.flatMap(location) ?? fallback?.location(of: path) ?? sourceMap.location(of: path)
        errors.append(DefinitionError(code, message, path: path, location: location))
    }

    mutating func record(_ node: Node, path: String) {
        if let l = location(node) { sourceMap.values[path] = l }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Shapes

    /// The fields of a mapping, with unknown keys reported against `known`.
    mutating func fields(_ node: Node, path: String, known: [String], what: String) -> [(String, Node)]? {
        record(node, path: path)
        guard case .mapping(let mapping) = node else {
            error(.wrongType, "\(what) must be a mapping of fields, not \(describe(node))", path: path, at: node)
            return nil
        }
        var out: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                error(.wrongType, "field names must be text", path: path, at: keyNode)
                continue
            }
            // The field's path is built only when something is recorded or reported under it.
            if let l = location(keyNode) { sourceMap.keys[Self.join(path, key)] = l }
            if !known.contains(key) {
                error(.unknownField, "unknown field '\(key)' in \(what)\(Suggestions.didYouMean(key, among: known))",
                      path: Self.join(path, key), at: keyNode)
                continue
            }
            if value.mark != nil { record(value, path: Self.join(path, key)) }
            out.append((key, value))
        }
        return out
    }

    mutating func sequence(_ node: Node, path: String, what: String) -> [Node]? {
        if case .sequence(let s) = node { return Array(s) }
        if case .scalar = node, node.tagName == .null { return [] }
        error(.wrongType, "\(what) must be a list, not \(describe(node))", path: path, at: node)
        return nil
    }

    // MARK: Scalars

    /// Text. `null` (nothing after the colon), true/false and — unless `numbers` — numbers are not
    /// text, as in the JSON Schema: quote them (`'1.0'`) or leave the field out.
    mutating func string(_ node: Node, path: String, numbers: Bool = false) -> String? {
        guard case .scalar(let s) = node else {
            error(.wrongType, "expected text, not \(describe(node))", path: path, at: node)
            return nil
        }
        switch node.tagName {
        case .null, .bool:
            error(.wrongType, "expected text, not \(describe(node))", path: path, at: node)
            return nil
        case .int where !numbers, .float where !numbers:
            error(.wrongType, "expected text, not \(describe(node)); write it in quotes: '\(s.string)'", path: path, at: node)
            return nil
        default: break
        }
        recordText(s, path: path)
        return s.string
    }

    /// Remembers where a text value stands, so errors inside it (a `${…}`) get exact columns.
    mutating func recordText(_ s: Node.Scalar, path: String) {
        if let mark = s.mark {
            let loc = SourceLocation(file: file, line: mark.line, column: mark.column)
            var origin = SourceMap.StringOrigin(location: loc, firstLineShift: 0, block: nil)
            switch s.style {
            case .singleQuoted, .doubleQuoted: origin.firstLineShift = 1
            case .literal, .folded:
                let next = mark.line  // 0-based index of the line after the indicator
                if splitLines == nil { splitLines = source.split(separator: "\n", omittingEmptySubsequences: false) }
                let lines = splitLines ?? []
                if next < lines.count {
                    let indent = lines[next].prefix(while: { $0 == " " }).count
                    origin.block = (line: mark.line + 1, column: indent + 1)
                }
            default: break
            }
            sourceMap.strings[path] = origin
        }
    }

    mutating func bool(_ node: Node, path: String) -> Bool? {
        if case .scalar = node, node.tagName == .bool, let b = node.bool { return b }
        error(.wrongType, "expected true or false, not \(describe(node))", path: path, at: node)
        return nil
    }

    mutating func int(_ node: Node, path: String) -> Int? {
        if case .scalar = node, node.tagName == .int, let n = node.int { return n }
        error(.wrongType, "expected a whole number, not \(describe(node))", path: path, at: node)
        return nil
    }

    /// `n` when it is finite and within ±``largestNumber``; else a located error and `nil`.
    mutating func inRange(_ n: Double, _ s: Node.Scalar, path: String, at node: Node) -> Double? {
        guard n.isFinite, abs(n) <= Self.largestNumber else {
            error(.invalidValue, "the number \(s.string.prefix(40)) is out of range (at most ±9007199254740991, finite); quote it to keep it as text", path: path, at: node)
            return nil
        }
        return n
    }

    mutating func number(_ node: Node, path: String) -> Double? {
        if case .scalar(let s) = node, node.tagName == .int || node.tagName == .float, let n = node.float {
            return inRange(n, s, path: path, at: node)
        }
        error(.wrongType, "expected a number, not \(describe(node))", path: path, at: node)
        return nil
    }

    mutating func duration(_ node: Node, path: String) -> Duration? {
        guard case .scalar(let s) = node else {
            error(.invalidDuration, "expected a duration like '30s', '5m' or '1h30m', not \(describe(node))", path: path, at: node)
            return nil
        }
        if node.tagName == .int || node.tagName == .float, let seconds = node.float {
            do { return try DurationText.duration(seconds: seconds) } catch {
                self.error(.invalidDuration, "invalid duration \(s.string.prefix(40)): \(error.message)", path: path, at: node)
                return nil
            }
        }
        do {
            return try DurationText.parse(s.string)
        } catch {
            var location = location(node) ?? fallback?.location(of: path)
            if s.style == .singleQuoted || s.style == .doubleQuoted { location = location?.advanced(by: 1) }
            errors.append(DefinitionError(
                .invalidDuration, "invalid duration '\(s.string)': \(error.message)", path: path,
                location: location?.advanced(by: error.offset)))
            return nil
        }
    }

    mutating func stringList(_ node: Node, path: String, what: String) -> [String] {
        if case .scalar = node, node.tagName != .null, let single = string(node, path: path) {
            return [single]
        }
        guard let items = sequence(node, path: path, what: what) else { return [] }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            record(item, path: p)
            if let s = string(item, path: p) { out.append(s) }
        }
        return out
    }

    mutating func enumeration<E: RawRepresentable>(_ node: Node, path: String, what: String, names: [String] = [])
        -> E? where E.RawValue == String, E: CaseIterable
    {
        guard let text = string(node, path: path) else { return nil }
        if let value = E(rawValue: text) { return value }
        let all = names.isEmpty ? E.allCases.map(\.rawValue) : names
        error(.invalidValue, "unknown \(what) '\(text)'\(Suggestions.unknownChoice(text, among: all))",
              path: path, at: node)
        return nil
    }

    // MARK: Free-form values

    mutating func value(_ node: Node, path: String) -> JSONValue {
        valueNodes += 1
        if valueNodes > Self.maximumValueNodes {
            if !reportedValueBudget {
                reportedValueBudget = true
                error(.tooLarge, "the definition expands to more than \(Self.maximumValueNodes) values (aliases repeating large blocks?)",
                      path: path, at: node)
            }
            return .null
        }
        switch node {
        case .scalar(let s):
            recordText(s, path: path)
            switch node.tagName {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case .int, .float:
                guard let n = node.float else { return .string(s.string) }
                return inRange(n, s, path: path, at: node).map(JSONValue.number) ?? .null
            default: return .string(s.string)
            }
        case .sequence(let items):
            return .array(items.enumerated().map { i, item in
                let p = "\(path)[\(i)]"
                record(item, path: p)
                return value(item, path: p)
            })
        case .mapping(let mapping):
            var out: [String: JSONValue] = [:]
            for (k, v) in mapping {
                let key = k.scalar?.string ?? describe(k)
                let p = Self.join(path, key)
                if let l = location(k) { sourceMap.keys[p] = l }
                record(v, path: p)
                out[key] = value(v, path: p)
            }
            return .object(out)
        case .alias:
            return .null
        }
    }

    mutating func object(_ node: Node, path: String, what: String) -> [String: JSONValue] {
        guard case .mapping = node else {
            if case .scalar = node, node.tagName == .null { return [:] }
            error(.wrongType, "\(what) must be a mapping, not \(describe(node))", path: path, at: node)
            return [:]
        }
        if case .object(let o) = value(node, path: path) { return o }
        return [:]
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s):
            switch node.tagName {
            case .null: return "null"
            case .bool: return "the boolean \(s.string)"
            case .int, .float: return "the number \(s.string)"
            default: return "the text '\(s.string.count > 40 ? String(s.string.prefix(40)) + "…" : s.string)'"
            }
        }
    }
}

extension Node {
    /// The resolved tag's name (`tag:yaml.org,2002:int`, …).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
