import Foundation

extension JSONValue {
    /// Follows `path` inside `value`; `nil` when a key or index is missing.
    package static func descend(_ value: JSONValue, _ path: some Collection<Reference.Component>) -> JSONValue? {
        var current = value
        for component in path {
            switch (component, current) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                current = next
            case (.index(let i), .array(let a)):
                guard a.indices.contains(i) else { return nil }
                current = a[i]
            case (.key(let k), .string(let s)):
                // A step output written as text may hold JSON; read into it.
                guard let data = s.data(using: .utf8), let parsed = try? JSONDecoder().decode(JSONValue.self, from: data),
                    case .object(let o) = parsed, let next = o[k]
                else { return nil }
                current = next
            default:
                return nil
            }
        }
        return current
    }
}
