import Foundation
import HTTPTypes
import Hummingbird
import Orchestration

/// Adds routes, each with the ``Access`` it needs and, for routes that change something, the
/// media types its body may have. The only way the server adds a route, so none can be added
/// without saying who may call it.
///
/// ```swift
/// let api = Routes(router: router, prefix: "/api/v1", control: control)
/// api.post("workflows", .role(.admin), accepts: MediaType.definitions, use: register)
/// api.get("workflows/:id", .role(.viewer), use: getWorkflow)
/// ```
///
/// The check runs inside the matched route (Hummingbird resolves the route before it calls the
/// handler), so every spelling of a path that reaches a route is checked as that route.
struct Routes<Context: RequestContext> {
    let router: Router<Context>
    /// Prepended to every path (`/api/v1`), or empty.
    let prefix: String
    let control: AccessControl

    @discardableResult
    func get<Output: ResponseGenerator>(
        _ path: String, _ access: Access, use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        on(.get, path, access, accepts: [], use: handler)
    }

    @discardableResult
    func post<Output: ResponseGenerator>(
        _ path: String, _ access: Access, accepts: [String] = MediaType.json,
        use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        on(.post, path, access, accepts: accepts, use: handler)
    }

    @discardableResult
    func delete<Output: ResponseGenerator>(
        _ path: String, _ access: Access, use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        on(.delete, path, access, accepts: MediaType.json, use: handler)
    }

    private func on<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, _ access: Access, accepts: [String],
        use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        let control = self.control
        let full = path.isEmpty ? (prefix.isEmpty ? "/" : prefix) : "\(prefix)/\(path)"
        router.on(RouterPath(full), method: method) { request, context -> Response in
            try control.authorize(request, access)
            if !accepts.isEmpty { try MediaType.check(request, accepts: accepts) }
            return try await handler(request, context).response(from: request, context: context)
        }
        return self
    }
}

/// The media types the API reads, and the check that refuses any other on a route that changes
/// something.
enum MediaType {
    static let json = ["application/json"]
    /// Workflow definitions: YAML or JSON.
    static let definitions = ["application/yaml", "application/x-yaml", "text/yaml", "application/json"]

    /// Refuses a body whose `Content-Type` is not one of `accepts` (415). Browsers send
    /// `text/plain`, form and multipart bodies across sites without asking first; none of those
    /// is accepted anywhere. A request without `Content-Type` (curl's `--data-binary` with `-H`
    /// left out sends a form type, so tools that send none are scripts) is read as the route's
    /// first type.
    static func check(_ request: Request, accepts: [String]) throws(Problem) {
        guard let given = request.headers[.contentType] else { return }
        let type = given.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard accepts.contains(type) else {
            throw Problem(.unsupportedMediaType, "Content-Type '\(given.prefix(100))' is not read here; send \(accepts.joined(separator: " or "))")
        }
    }
}
