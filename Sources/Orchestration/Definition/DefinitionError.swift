/// Where something is in a workflow file. Lines and columns are 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    /// The same line, `offset` characters further right.
    public func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }
}

/// One problem (or warning) in a workflow definition.
///
/// Rendered like a compiler diagnostic:
/// `deploy.yaml:12:19: error: steps[2].dependencies[0]: unknown step 'biuld'; did you mean 'build'?`
public struct DefinitionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// How bad it is.
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    /// A stable machine-readable kind, for tests, tools and API clients.
    public enum Code: String, Sendable, Hashable {
        case unreadable, syntax, tooLarge, unknownField, missingField, wrongType, invalidValue
        case invalidID, duplicateID, reservedID, unknownDependency, selfDependency, cycle
        case unknownReference, invalidReference, invalidCondition, invalidDuration, invalidRetryPolicy
        case invalidTrigger, invalidCron, unknownAction, invalidAction
        case missingTimeout, undeclaredInput, exclusiveStep
    }

    public var severity: Severity
    public var code: Code
    /// Where the problem is; `nil` for workflows built in code.
    public var location: SourceLocation?
    /// The field path, like `steps[2].dependencies[0]`.
    public var path: String
    public var message: String

    public init(_ code: Code, _ message: String, path: String, location: SourceLocation? = nil, severity: Severity = .error) {
        self.severity = severity
        self.code = code
        self.location = location
        self.path = path
        self.message = message
    }

    /// `FILE:LINE:COL: error: path: message`.
    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        let field = path.isEmpty ? "" : "\(path): "
        return "\(prefix)\(severity.rawValue): \(field)\(message)"
    }
}

/// Everything wrong with a definition, thrown when it cannot be used.
public struct DefinitionErrors: Error, Sendable, CustomStringConvertible {
    /// Errors first, in file order; then warnings.
    public var errors: [DefinitionError]

    public init(_ errors: [DefinitionError]) {
        self.errors = errors
    }

    /// One line per problem.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}

extension Array where Element == DefinitionError {
    /// Sorted by file position (errors without a location last, in their original order).
    func sortedByLocation() -> [DefinitionError] {
        enumerated().sorted { a, b in
            switch (a.element.location, b.element.location) {
            case let (x?, y?):
                if x.line != y.line { return x.line < y.line }
                if x.column != y.column { return x.column < y.column }
                return a.offset < b.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.offset < b.offset
            }
        }.map(\.element)
    }
}
