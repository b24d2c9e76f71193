/// Reads a ``DefinitionNode`` tree field by field, recording locations and collecting every error.
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

    func location(_ node: DefinitionNode) -> SourceLocation? {
        location(node.mark)
    }

    func location(_ mark: DefinitionNode.Mark) -> SourceLocation? {
        mark.isKnown ? SourceLocation(file: file, line: Int(mark.line), column: Int(mark.column)) : nil
    }

    mutating func error(_ code: DefinitionError.Code, _ message: String, path: String, at node: DefinitionNode?) {
        let location = node.flatMap(location) ?? fallback?.location(of: path) ?? sourceMap.location(of: path)
        errors.append(DefinitionError(code, message, path: path, location: location))
    }

    mutating func record(_ node: DefinitionNode, path: String) {
        if let l = location(node) { sourceMap.values[path] = l }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Shapes

    /// The fields of a mapping, with unknown keys reported against `known`.
    mutating func fields(_ node: DefinitionNode, path: String, known: [String], what: String) -> [(String, DefinitionNode)]? {
        record(node, path: path)
        guard case .mapping(let mapping, _) = node else {
            error(.wrongType, "\(what) must be a mapping of fields, not \(describe(node))", path: path, at: node)
            return nil
        }
        var out: [(String, DefinitionNode)] = []
        out.reserveCapacity(mapping.count)
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.text else {
                error(.wrongType, "field names must be text", path: path, at: keyNode)
                continue
            }
            // The field's path is built only when something is recorded or reported under it.
            if let l = location(keyNode) { sourceMap.keys[Self.join(path, key)] = l }
            if !known.contains(key) {
                error(
                    .unknownField, "unknown field '\(key)' in \(what)\(DidYouMean.hint(key, among: known))",
                    path: Self.join(path, key), at: keyNode)
                continue
            }
            if value.mark.isKnown { record(value, path: Self.join(path, key)) }
            out.append((key, value))
        }
        return out
    }

    mutating func sequence(_ node: DefinitionNode, path: String, what: String) -> [DefinitionNode]? {
        if case .sequence(let items, _) = node { return items }
        if node.kind == .null { return [] }
        error(.wrongType, "\(what) must be a list, not \(describe(node))", path: path, at: node)
        return nil
    }

    // MARK: Scalars

    /// Text. `null` (nothing after the colon), true/false and — unless `numbers` — numbers are not
    /// text, as in the JSON Schema: quote them (`'1.0'`) or leave the field out.
    mutating func string(_ node: DefinitionNode, path: String, numbers: Bool = false) -> String? {
        guard case .scalar(let s) = node else {
            error(.wrongType, "expected text, not \(describe(node))", path: path, at: node)
            return nil
        }
        switch s.kind {
        case .null, .bool:
            error(.wrongType, "expected text, not \(describe(node))", path: path, at: node)
            return nil
        case .int where !numbers, .float where !numbers:
            error(.wrongType, "expected text, not \(describe(node)); write it in quotes: '\(s.text)'", path: path, at: node)
            return nil
        default: break
        }
        recordText(s, path: path)
        return s.text
    }

    /// Remembers where a text value stands, so errors inside it (a `${…}`) get exact columns.
    mutating func recordText(_ s: DefinitionNode.Scalar, path: String) {
        if let loc = location(s.mark) {
            let mark = (line: Int(s.mark.line), column: Int(s.mark.column))
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

    mutating func bool(_ node: DefinitionNode, path: String) -> Bool? {
        if let b = node.scalar?.boolean { return b }
        error(.wrongType, "expected true or false, not \(describe(node))", path: path, at: node)
        return nil
    }

    mutating func int(_ node: DefinitionNode, path: String) -> Int? {
        if let s = node.scalar, s.kind == .int, let n = s.integer { return n }
        error(.wrongType, "expected a whole number, not \(describe(node))", path: path, at: node)
        return nil
    }

    /// `n` when it is finite and within ±``largestNumber``; else a located error and `nil`.
    mutating func inRange(_ n: Double, _ s: DefinitionNode.Scalar, path: String, at node: DefinitionNode) -> Double? {
        guard n.isFinite, abs(n) <= Self.largestNumber else {
            error(
                .invalidValue, "the number \(s.text.prefix(40)) is out of range (at most ±9007199254740991, finite); quote it to keep it as text",
                path: path, at: node)
            return nil
        }
        return n
    }

    mutating func number(_ node: DefinitionNode, path: String) -> Double? {
        if case .scalar(let s) = node, s.kind == .int || s.kind == .float, let n = s.number {
            return inRange(n, s, path: path, at: node)
        }
        error(.wrongType, "expected a number, not \(describe(node))", path: path, at: node)
        return nil
    }

    mutating func duration(_ node: DefinitionNode, path: String) -> Duration? {
        guard case .scalar(let s) = node else {
            error(.invalidDuration, "expected a duration like '30s', '5m' or '1h30m', not \(describe(node))", path: path, at: node)
            return nil
        }
        if s.kind == .int || s.kind == .float, let seconds = s.number {
            do { return try DurationText.duration(seconds: seconds) } catch {
                self.error(.invalidDuration, "invalid duration \(s.text.prefix(40)): \(error.message)", path: path, at: node)
                return nil
            }
        }
        do {
            return try DurationText.parse(s.text)
        } catch {
            var location = location(node) ?? fallback?.location(of: path)
            if s.style == .singleQuoted || s.style == .doubleQuoted { location = location?.advanced(by: 1) }
            errors.append(
                DefinitionError(
                    .invalidDuration, "invalid duration '\(s.text)': \(error.message)", path: path,
                    location: location?.advanced(by: error.offset)))
            return nil
        }
    }

    mutating func stringList(_ node: DefinitionNode, path: String, what: String) -> [String] {
        if case .scalar(let s) = node, s.kind != .null, let single = string(node, path: path) {
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

    mutating func enumeration<E: RawRepresentable>(_ node: DefinitionNode, path: String, what: String, names: [String] = [])
        -> E? where E.RawValue == String, E: CaseIterable
    {
        guard let text = string(node, path: path) else { return nil }
        if let value = E(rawValue: text) { return value }
        let all = names.isEmpty ? E.allCases.map(\.rawValue) : names
        error(
            .invalidValue, "unknown \(what) '\(text)'\(DidYouMean.unknownChoice(text, among: all))",
            path: path, at: node)
        return nil
    }

    // MARK: Free-form values

    mutating func value(_ node: DefinitionNode, path: String) -> JSONValue {
        valueNodes += 1
        if valueNodes > Self.maximumValueNodes {
            if !reportedValueBudget {
                reportedValueBudget = true
                error(
                    .tooLarge, "the definition expands to more than \(Self.maximumValueNodes) values (aliases repeating large blocks?)",
                    path: path, at: node)
            }
            return .null
        }
        switch node {
        case .scalar(let s):
            recordText(s, path: path)
            switch s.kind {
            case .null: return .null
            case .bool: return s.boolean.map(JSONValue.bool) ?? .string(s.text)
            case .int, .float:
                guard let n = s.number else { return .string(s.text) }
                return inRange(n, s, path: path, at: node).map(JSONValue.number) ?? .null
            case .string: return .string(s.text)
            }
        case .sequence(let items, _):
            return .array(
                items.enumerated().map { i, item in
                    let p = "\(path)[\(i)]"
                    record(item, path: p)
                    return value(item, path: p)
                })
        case .mapping(let mapping, _):
            var out: [String: JSONValue] = [:]
            out.reserveCapacity(mapping.count)
            for (k, v) in mapping {
                let key = k.scalar?.text ?? describe(k)
                let p = Self.join(path, key)
                if let l = location(k) { sourceMap.keys[p] = l }
                record(v, path: p)
                out[key] = value(v, path: p)
            }
            return .object(out)
        }
    }

    mutating func object(_ node: DefinitionNode, path: String, what: String) -> [String: JSONValue] {
        guard case .mapping = node else {
            if node.kind == .null { return [:] }
            error(.wrongType, "\(what) must be a mapping, not \(describe(node))", path: path, at: node)
            return [:]
        }
        if case .object(let o) = value(node, path: path) { return o }
        return [:]
    }

    func describe(_ node: DefinitionNode) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            switch s.kind {
            case .null: return "null"
            case .bool: return "the boolean \(s.text)"
            case .int, .float: return "the number \(s.text)"
            case .string: return "the text '\(s.text.count > 40 ? String(s.text.prefix(40)) + "…" : s.text)'"
            }
        }
    }
}
