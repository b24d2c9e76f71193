import Yams

/// A definition's text as a tree, whatever its syntax: what ``NodeReader`` reads. Each scalar's
/// type and value are settled once, when the tree is built — by ``JSONNodeParser`` from JSON's
/// syntax, or from Yams' resolved tags for YAML — so reading it costs no tag resolution, and
/// copying a node retains at most one buffer.
enum DefinitionNode: Sendable {
    case scalar(Scalar)
    case sequence([DefinitionNode], Mark)
    case mapping([(key: DefinitionNode, value: DefinitionNode)], Mark)

    /// A 1-based line and column; `line == 0` when the tree carries no locations (JSON).
    struct Mark: Sendable, Hashable {
        var line: Int32
        var column: Int32

        static let none = Mark(line: 0, column: 0)
        var isKnown: Bool { line > 0 }
    }

    enum Kind: Sendable, Hashable {
        case null, bool, int, float, string
    }

    enum Style: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    struct Scalar: Sendable {
        var text: String
        var kind: Kind
        var style: Style
        var mark: Mark
        /// For `bool`.
        var boolean: Bool?
        /// For `int` (when it fits) and `float`; for `int`, also as a `Double`.
        var integer: Int?
        var number: Double?
    }

    var scalar: Scalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    var kind: Kind? { scalar?.kind }

    var mark: Mark {
        switch self {
        case .scalar(let s): s.mark
        case .sequence(_, let m), .mapping(_, let m): m
        }
    }

    /// A string scalar (double-quoted, as JSON writes them) without a location.
    static func string(_ text: String) -> DefinitionNode {
        .scalar(Scalar(text: text, kind: .string, style: .doubleQuoted, mark: .none))
    }
}

extension DefinitionNode {
    /// The tree of a composed YAML document: tags resolved once, aliases (already bounded by
    /// ``AliasBudget``) expanded, marks kept.
    init(yaml node: Node) {
        func mark(_ m: Yams.Mark?) -> Mark {
            m.map { Mark(line: Int32(clamping: $0.line), column: Int32(clamping: $0.column)) } ?? .none
        }
        switch node {
        case .scalar(let s):
            let style: Style =
                switch s.style {
                case .singleQuoted: .singleQuoted
                case .doubleQuoted: .doubleQuoted
                case .literal: .literal
                case .folded: .folded
                default: .plain
                }
            var scalar = Scalar(text: s.string, kind: .string, style: style, mark: mark(s.mark))
            switch node.tagName {
            case .null: scalar.kind = .null
            case .bool:
                scalar.kind = .bool
                scalar.boolean = node.bool
            case .int:
                scalar.kind = .int
                scalar.integer = node.int
                scalar.number = node.float
            case .float:
                scalar.kind = .float
                scalar.number = node.float
            default: break
            }
            self = .scalar(scalar)
        case .sequence(let items):
            self = .sequence(items.map(DefinitionNode.init(yaml:)), mark(node.mark))
        case .mapping(let mapping):
            self = .mapping(mapping.map { (key: DefinitionNode(yaml: $0.key), value: DefinitionNode(yaml: $0.value)) }, mark(node.mark))
        case .alias:
            self = .scalar(Scalar(text: "", kind: .null, style: .plain, mark: mark(node.mark)))
        }
    }
}

extension Node {
    /// The resolved tag's name (`tag:yaml.org,2002:int`, …).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
