import Orchestration

/// Reading parts of JSON values in tests.
extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}
