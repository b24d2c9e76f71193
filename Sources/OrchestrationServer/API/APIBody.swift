import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAPIRuntime
import Orchestration
import OrchestrationAPI

/// Request and response bodies are the types generated from `openapi.yaml`'s schemas
/// (`Components.Schemas`, target OrchestrationAPI): a field the document does not describe cannot be
/// sent, and a documented field cannot be left out. This is how they become JSON, and back.
package enum APIBody {
    /// Sorted keys, dates as ISO 8601 with milliseconds (as `ExecutionReport.iso`).
    package static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ExecutionReport.iso(date))
        }
        return encoder
    }

    /// The JSON text of a body; `pretty` as the CLI prints JSON (`"key": value`, two-space indents).
    package static func text(_ body: some Encodable, pretty: Bool = false) throws -> String {
        let data = try encoder().encode(body)
        guard pretty else { return String(decoding: data, as: UTF8.self) }
        return try JSONDecoder().decode(JSONValue.self, from: data).prettyJSONText
    }

    /// A JSON response with `body`.
    static func response(_ body: some Encodable, _ status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder().encode(body))))
    }

    /// Reads a request body as `T`; a body that does not match is a 400 that says where and what.
    /// A field sent as `null` is refused: the document allows null nowhere in a request, and the
    /// generated decoders would take it for a field left out.
    static func decode<T: RequestBody>(_ type: T.Type, from buffer: ByteBuffer, expected: String) throws -> T {
        let data = Data(buffer.readableBytesView)
        if case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: data),
            let field = fields.keys.sorted().first(where: { fields[$0] == .null && T.CodingKeys(stringValue: $0) != nil })
        {
            throw Problem(.badRequest, "\(field) must not be null; leave it out instead; the body is \(expected)")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Problem(.badRequest, "\(describe(error)); the body is \(expected)")
        } catch {
            throw Problem(.badRequest, "the body is not JSON; it is \(expected)")
        }
    }

    /// A value the core already renders as JSON (learning patterns, suggestions, audit records), read
    /// as the document's type: what the document does not describe is not sent, and a value that
    /// lacks a documented field fails here (500) instead of reaching a client.
    static func transcode<T: Decodable>(_ value: JSONValue, as type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            return try Date(text, strategy: Date.ISO8601FormatStyle())
        }
        return try decoder.decode(type, from: Data(value.jsonText.utf8))
    }

    /// A decoding error in words: the field's path and what was wrong with it.
    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the body" : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(at(context.codingPath + [key])) is required"
        case .typeMismatch(let type, let context): return "\(at(context.codingPath)) must be \(kind(type))"
        case .valueNotFound(let type, let context): return "\(at(context.codingPath)) must be \(kind(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty, context.debugDescription.contains("JSON") { return "the body is not JSON" }
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "the body does not match the document"
        }
    }

    static func kind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is [Any].Type: "a list"
        default: "a JSON object"
        }
    }
}

extension Components.Schemas.Decision: RequestBody {}

extension JSONValue {
    /// The value as the generator's free-form JSON (`{}` and `{type: object}` in the document).
    var container: OpenAPIValueContainer {
        // Every case maps to a type the container takes, so this cannot fail.
        (try? OpenAPIValueContainer(unvalidatedValue: anyValue)) ?? nil
    }

    /// An object's fields as the generator's free-form object; anything else as an empty object.
    var objectContainer: OpenAPIObjectContainer {
        guard case .object(let fields) = self else { return OpenAPIObjectContainer() }
        let values: [String: (any Sendable)?] = fields.mapValues { $0.anyValue }
        do { return try OpenAPIObjectContainer(unvalidatedValue: values) } catch { return OpenAPIObjectContainer() }
    }

    var anyValue: (any Sendable)? {
        switch self {
        case .null: return nil
        case .bool(let b): return b
        case .number(let n):
            guard n.isFinite else { return nil }
            return n == n.rounded() && abs(n) < 1e15 ? Int(n) : n
        case .string(let s): return s
        case .array(let items): return items.map { $0.anyValue }
        case .object(let fields): return fields.mapValues { $0.anyValue }
        }
    }

    /// Free-form JSON from a request, back as a value.
    init(any value: (any Sendable)?) {
        switch value {
        case nil: self = .null
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(Double(i))
        case let d as Double: self = .number(d)
        case let s as String: self = .string(s)
        case let a as [(any Sendable)?]: self = .array(a.map(JSONValue.init(any:)))
        case let o as [String: (any Sendable)?]: self = .object(o.mapValues(JSONValue.init(any:)))
        default: self = .null
        }
    }
}

/// A request body type generated from the document; its coding keys are the documented fields.
protocol RequestBody: Decodable {
    associatedtype CodingKeys: CodingKey
}

extension Components.Schemas.ExecutionRequest: RequestBody {}
extension Components.Schemas.BackfillRequest: RequestBody {}
extension Components.Schemas.EventRequest: RequestBody {}
extension Components.Schemas.SubscriptionRequest: RequestBody {}
extension Components.Schemas.SuggestionChoice: RequestBody {}
