/// An error from the engine's API: an unknown workflow or execution, invalid inputs, a wrong state.
public struct EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The caller sent something unusable (exit 2 on the CLI, 400 on the API).
        case invalidInput
        /// No such workflow or execution (404).
        case notFound
        /// The operation does not fit the execution's state (409).
        case conflict
        /// A path that is not built yet.
        case unsupported
        /// The store could not save or read (disk full, read-only, corrupt) (503).
        case unavailable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
