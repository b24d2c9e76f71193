import Foundation

/// One operation of a JSON Patch (RFC 6902) on a JSON Pointer path (RFC 6901): the form of every
/// change the learning engine suggests. `add`, `remove`, `replace` and `test` are supported.
public struct JSONPatchOperation: Sendable, Hashable, Codable {
    public enum Op: String, Sendable, Hashable, Codable {
        case add, remove, replace, test
    }

    public var op: Op
    public var path: String
    public var value: JSONValue?

    public init(_ op: Op, _ path: String, _ value: JSONValue? = nil) {
        self.op = op
        self.path = path
        self.value = value
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["op": .string(op.rawValue), "path": .string(path)]
        if let value { o["value"] = value }
        return .object(o)
    }
}

/// Applying JSON Patches.
public enum JSONPatch {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// `document` with `operations` applied in order; all or nothing.
    public static func apply(_ operations: [JSONPatchOperation], to document: JSONValue) throws(Failure) -> JSONValue {
        var current = document
        for (i, operation) in operations.enumerated() {
            let tokens = try pointer(operation.path)
            switch operation.op {
            case .test:
                guard let found = value(at: tokens, in: current) else {
                    throw Failure(description: "operation \(i): \(operation.path) does not exist")
                }
                guard found == operation.value else {
                    throw Failure(
                        description:
                            "operation \(i): \(operation.path) is \(found.jsonText), not \((operation.value ?? .null).jsonText): the definition changed since the suggestion was made"
                    )
                }
            case .add, .replace:
                guard let value = operation.value else { throw Failure(description: "operation \(i): '\(operation.op.rawValue)' needs a value") }
                current = try set(value, at: tokens[...], in: current, replace: operation.op == .replace, index: i)
            case .remove:
                current = try remove(at: tokens[...], in: current, index: i)
            }
        }
        return current
    }

    static func pointer(_ path: String) throws(Failure) -> [String] {
        guard !path.isEmpty else { return [] }
        guard path.hasPrefix("/") else { throw Failure(description: "'\(path)' is not a JSON Pointer (it must start with '/')") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func value(at tokens: [String], in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }
                current = a[i]
            default: return nil
            }
        }
        return current
    }

    static func set(_ value: JSONValue, at tokens: ArraySlice<String>, in document: JSONValue, replace: Bool, index: Int) throws(Failure) -> JSONValue
    {
        guard let token = tokens.first else { return value }
        let rest = tokens.dropFirst()
        switch document {
        case .object(var o):
            if rest.isEmpty {
                if replace, o[token] == nil { throw Failure(description: "operation \(index): nothing to replace at '\(token)'") }
                o[token] = value
            } else {
                guard let child = o[token] else { throw Failure(description: "operation \(index): no '\(token)'") }
                o[token] = try set(value, at: rest, in: child, replace: replace, index: index)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty, !replace, token == "-" {
                a.append(value)
                return .array(a)
            }
            guard let i = Int(token), i >= 0, i < a.count || (rest.isEmpty && !replace && i == a.count) else {
                throw Failure(description: "operation \(index): no element \(token)")
            }
            if rest.isEmpty {
                if replace { a[i] = value } else { a.insert(value, at: i) }
            } else {
                a[i] = try set(value, at: rest, in: a[i], replace: replace, index: index)
            }
            return .array(a)
        default:
            throw Failure(description: "operation \(index): '\(token)' is inside a value that is neither an object nor an array")
        }
    }

    static func remove(at tokens: ArraySlice<String>, in document: JSONValue, index: Int) throws(Failure) -> JSONValue {
        guard let token = tokens.first else { throw Failure(description: "operation \(index): cannot remove the whole document") }
        let rest = tokens.dropFirst()
        switch document {
        case .object(var o):
            guard let child = o[token] else { throw Failure(description: "operation \(index): nothing to remove at '\(token)'") }
            // Not `o[token] = nil` through a conditional: JSONValue takes `nil` as null.
            if rest.isEmpty { o.removeValue(forKey: token) } else { o[token] = try remove(at: rest, in: child, index: index) }
            return .object(o)
        case .array(var a):
            guard let i = Int(token), a.indices.contains(i) else { throw Failure(description: "operation \(index): no element \(token)") }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(at: rest, in: a[i], index: index) }
            return .array(a)
        default:
            throw Failure(description: "operation \(index): '\(token)' is inside a value that is neither an object nor an array")
        }
    }
}
