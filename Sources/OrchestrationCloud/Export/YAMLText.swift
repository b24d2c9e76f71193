import Orchestration
import Yams

/// YAML text of a value: block style, keys in the order `order` gives (then alphabetical), text
/// quoted wherever YAML would read it as something else.
enum YAMLText {
    static func write(_ value: JSONValue, order: [String] = []) -> String {
        let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let node = self.node(value, rank: rank)
        return (try? Yams.serialize(node: node, width: -1, sortKeys: false)) ?? value.prettyJSONText
    }

    private static func node(_ value: JSONValue, rank: [String: Int]) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .number(let n): return Node(JSONValue.format(n), Tag(n == n.rounded() && abs(n) < 1e15 ? .int : .float))
        case .string(let s):
            if s.contains("\n") { return Node(s, Tag(.str), .literal) }
            // Plain only where YAML reads it back as this same text ("", "true", "1.0", "a: b" are not).
            let plain = !s.isEmpty && Resolver.default.resolveTag(of: Node(s)) == .str
            return Node(s, Tag(.str), plain ? .plain : .doubleQuoted)
        case .array(let items): return Node(items.map { node($0, rank: rank) })
        case .object(let fields):
            let keys = fields.keys.sorted { a, b in
                let ra = rank[a] ?? Int.max, rb = rank[b] ?? Int.max
                return ra != rb ? ra < rb : a < b
            }
            return Node(keys.map { (Node($0, Tag(.str)), node(fields[$0]!, rank: rank)) })
        }
    }
}
