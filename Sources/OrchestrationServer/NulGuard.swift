import Hummingbird

/// Refuses a request whose path or query holds a NUL character, raw or as `%00`, with a 400. No
/// id, name or filter contains one, and PostgreSQL refuses NUL in text: without this, such a
/// request reached the store and was answered as the store failing (503).
struct NulGuard<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.holdsNul(request.uri.path) || request.uri.query.map(Self.holdsNul) == true {
            return Problem(.badRequest, "the request's path or query holds a NUL character (%00); no name or id contains one").response
        }
        return try await next(request, context)
    }

    /// Whether `text` (as sent, percent-encoded) holds NUL.
    static func holdsNul(_ text: String) -> Bool {
        text.utf8.contains(0) || text.contains("%00")
    }
}
