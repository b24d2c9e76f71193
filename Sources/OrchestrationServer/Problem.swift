import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Orchestration

/// An RFC 9457 problem document (`application/problem+json`): every error the API answers.
///
/// ```json
/// {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no execution 'x'"}
/// ```
public struct Problem: Error, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    /// Extra members (`errors` for definition problems).
    public var extra: [String: JSONValue]

    public init(_ status: HTTPResponse.Status, _ detail: String, extra: [String: JSONValue] = [:]) {
        self.status = status
        self.detail = detail
        self.extra = extra
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "type": "about:blank", "title": .string(status.reasonPhrase), "status": .number(Double(status.code)),
            "detail": .string(detail),
        ]
        o.merge(extra) { _, new in new }
        return .object(o)
    }

    public var response: Response {
        Response(
            status: status, headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json.jsonText)))
    }

    /// The problem for an engine error: 400, 404, 409, 501 or 503.
    public init(_ error: EngineError) {
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
    public init(_ errors: DefinitionErrors) {
        let list: [JSONValue] = errors.errors.map { e in
            var o: [String: JSONValue] = ["message": .string(e.message), "path": .string(e.path)]
            if let l = e.location {
                o["line"] = .number(Double(l.line))
                o["column"] = .number(Double(l.column))
            }
            return .object(o)
        }
        self.init(.unprocessableContent, "the workflow is invalid: \(errors.errors.count) error\(errors.errors.count == 1 ? "" : "s")", extra: ["errors": .array(list)])
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
            return Problem(error.status, error.body ?? error.status.reasonPhrase).response
        } catch {
            return Problem(.internalServerError, "\(error)").response
        }
    }
}

extension JSONValue {
    /// A JSON response.
    func response(_ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: jsonText)))
    }
}
