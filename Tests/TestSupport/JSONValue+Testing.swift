import Orchestration

/// Reading parts of JSON values in tests.
package extension JSONValue {
    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}

package extension JSONValue {
    /// Item `index` of a list; nil for anything else or out of range.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
