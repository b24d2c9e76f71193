import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Orchestration
import OrchestrationAPI

/// An RFC 9457 problem document (`application/problem+json`): every error the API answers.
///
/// ```json
/// {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no execution 'x'"}
/// ```
package struct Problem: Error, Sendable {
    package var status: HTTPResponse.Status
    package var detail: String
    /// The located errors of a definition problem (422).
    package var errors: [Components.Schemas.DefinitionProblem.Value2Payload.ErrorsPayloadPayload]
    /// Extra response headers (`WWW-Authenticate` on a 401, `Retry-After`).
    package var headers: HTTPFields

    package init(
        _ status: HTTPResponse.Status, _ detail: String, errors: [Components.Schemas.DefinitionProblem.Value2Payload.ErrorsPayloadPayload] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// The problem document: `Problem`, or `DefinitionProblem` when it lists definition errors.
    package var body: any Encodable & Sendable {
        let problem = Components.Schemas.Problem(_type: "about:blank", title: status.reasonPhrase, status: status.code, detail: detail)
        guard !errors.isEmpty else { return problem }
        return Components.Schemas.DefinitionProblem(value1: problem, value2: .init(errors: errors))
    }

    package var response: Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        // A problem document always encodes (strings and numbers only).
        let bytes =
            (try? APIBody.encoder().encode(body)) ?? Data(#"{"type":"about:blank","title":"Internal Server Error","status":500,"detail":""}"#.utf8)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The problem for an engine error: 400, 404, 409, 501 or 503.
    package init(_ error: EngineError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .invalidInput: status = .badRequest
        case .notFound: status = .notFound
        case .conflict: status = .conflict
        case .unsupported: status = .notImplemented
        case .unavailable: status = .serviceUnavailable
        }
        self.init(status, error.message)
    }

    /// 422 with every located definition error.
    package init(_ errors: DefinitionErrors) {
        self.init(
            .unprocessableContent, "the workflow is invalid: \(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s")",
            errors: errors.errors.map { .init(message: $0.message, path: $0.path, line: $0.location?.line, column: $0.location?.column) })
    }
}

/// Turns every error a route throws into a problem document, so the API never answers a bare 500
/// for a bad request.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response
        } catch let error as EngineError {
            return Problem(error).response
        } catch let error as DefinitionErrors {
            return Problem(error).response
        } catch let error as HTTPError {
            // The router found no route. If the path has routes for other methods, that is 405.
            if error.status == .notFound, error.body == nil, let allowed = DocumentedRoutes.methods(for: request.uri.path) {
                var response = Problem(.methodNotAllowed, "\(request.method.rawValue) is not allowed here; use \(allowed.joined(separator: ", "))")
                    .response
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            return Problem(error.status, error.body ?? error.status.reasonPhrase).response
        } catch let error as StoreError {
            // The store could not do it (a disk I/O error, a database gone): 503, saying so. Store
            // messages name the database by its path or its redacted URL, never a credential.
            FileHandle.standardError.write(Data("novacron: \(request.method.rawValue) \(Self.loggable(request)): the store failed: \(error)\n".utf8))
            return Problem(.serviceUnavailable, "the store failed: \(error.message)").response
        } catch is NIOTooManyBytesError {
            return Problem(.contentTooLarge, "the request body is larger than this route accepts").response
        } catch {
            // Internal names and messages stay in the server's log, not in the answer.
            FileHandle.standardError.write(Data("novacron: \(request.method.rawValue) \(Self.loggable(request)): internal error: \(error)\n".utf8))
            return Problem(.internalServerError, "internal error; the server's log has the details").response
        }
    }

    /// The request's path for the log: a callback's path is its credential, so it is not logged.
    private static func loggable(_ request: Request) -> String {
        request.uri.path.contains("/callbacks/") ? "/api/v1/callbacks/…" : String(request.uri.path.prefix(200))
    }
}

/// The paths and methods of the OpenAPI document, to tell 405 (the path exists, not with this
/// method) from 404.
enum DocumentedRoutes {
    /// Each path as segments (`nil` for a `{parameter}`) with its methods, upper case.
    static let routes: [(segments: [String?], methods: [String])] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any],
            let paths = document["paths"] as? [String: [String: Any]]
        else { return [] }
        let verbs = ["get", "put", "post", "delete", "patch", "head", "options"]
        return paths.map { path, item in
            let segments: [String?] = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
            return (segments, verbs.filter { item[$0] != nil }.map { $0.uppercased() })
        }
    }()

    /// The methods documented for `path`, or `nil` when no documented path matches it.
    static func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/")
        var found: Set<String> = []
        for route in routes
        where route.segments.count == parts.count
            && zip(route.segments, parts).allSatisfy({ $0.0 == nil || $0.0! == $0.1 })
        {
            found.formUnion(route.methods)
        }
        return found.isEmpty ? nil : found.sorted()
    }
}
