/// A problem with an expression or a `${…}` template: where (a character offset into the text,
/// 0-based, when known) and what.
package struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    /// Character offset into the expression text; `nil` for errors found while evaluating.
    package var offset: Int?

    package init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    package var description: String {
        if let offset { return "column \(offset + 1): \(message)" }
        return message
    }
}
