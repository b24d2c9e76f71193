import Foundation
import Hummingbird
import Orchestration
import OrchestrationAPI

/// Approvals and signals: `POST …/steps/{step}/approve|reject` and `POST …/signals/{name}`.
/// Both are saved in the store first, so they reach the execution wherever and whenever it runs.
extension APIController {
    func approve(_ request: Request, context: Context) async throws -> Response { try await decide(request, context, .approve) }

    func reject(_ request: Request, context: Context) async throws -> Response { try await decide(request, context, .reject) }

    func decide(_ request: Request, _ context: Context, _ kind: ExecutionSignal.Kind) async throws -> Response {
        let id = try context.parameters.require("id")
        let stepID = try context.parameters.require("step")
        let buffer = try await request.body.collect(upTo: 1 << 16)
        let given =
            buffer.readableBytes == 0
            ? Components.Schemas.Decision()
            : try APIBody.decode(Components.Schemas.Decision.self, from: buffer, expected: #"a JSON object: {"comment": "…", "data": {…}}"#)
        let execution = try await current(id)
        guard !execution.status.isTerminal else { throw Problem(.conflict, "execution \(id) already \(execution.status.rawValue)") }
        guard let step = execution.stepResults[stepID] else { throw Problem(.notFound, "execution \(id) has no step '\(stepID)' (yet)") }
        guard step.waitReason == .approval else {
            throw Problem(.conflict, "step \(stepID) of execution \(id) is not waiting for approval; it is \(step.status.rawValue)")
        }
        var payload: [String: JSONValue] = [:]
        if let comment = given.comment { payload["comment"] = .string(comment) }
        if let data = given.data { payload["data"] = try JSONValue(encoding: data) }
        try await engine.send(
            ExecutionSignal(
                executionID: id, kind: kind, name: stepID, payload: .object(payload), sender: control.callerName(of: request), sentAt: Date()))
        return try APIBody.response(Components.Schemas.Execution(try await current(id), stepOrder: nil), .accepted)
    }

    /// The body, any JSON (none is `null`), becomes `${step.payload}` of the steps waiting for `name`.
    func signal(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let name = try context.parameters.require("name")
        guard (1...100).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw Problem(.badRequest, "a signal name is 1 to 100 letters, digits, '-', '_' or '.'")
        }
        let buffer = try await request.body.collect(upTo: 1 << 16)
        var payload = JSONValue.null
        if buffer.readableBytes > 0 {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) else {
                throw Problem(.badRequest, "the body is not JSON; a signal's body is any JSON value, read as ${step.payload}")
            }
            payload = value
        }
        let execution = try await current(id)
        guard !execution.status.isTerminal else { throw Problem(.conflict, "execution \(id) already \(execution.status.rawValue)") }
        try await engine.send(
            ExecutionSignal(executionID: id, kind: .signal, name: name, payload: payload, sender: control.callerName(of: request), sentAt: Date()))
        return try APIBody.response(Components.Schemas.Execution(try await current(id), stepOrder: nil), .accepted)
    }

    /// The execution as this node knows it: running here, else as saved.
    func current(_ id: String) async throws -> WorkflowExecution {
        try await engine.currentExecution(id)
    }
}

/// Callbacks: `POST …/steps/{step}/callback` (operator) gives a single-use token; `POST
/// /api/v1/callbacks/{token}` (no API token: the token is the credential) uses it once.
extension APIController {
    func mintCallback(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let stepID = try context.parameters.require("step")
        let (token, expires) = try await engine.mintCallback(
            executionID: id, stepID: stepID.removingPercentEncoding ?? stepID, by: control.callerName(of: request))
        var response = try APIBody.response(
            Components.Schemas.Callback(token: token, path: "/api/v1/callbacks/\(token)", expiresAt: expires), .created)
        // A credential: not for caches on the way.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func useCallback(_ request: Request, context: Context) async throws -> Response {
        let token = try context.parameters.require("token")
        // A token that cannot be one is answered before anything is read.
        guard CallbackToken.digestOfGiven(token) != nil else { throw Problem(.notFound, "no such callback, or it was used or has expired") }
        let buffer = try await request.body.collect(upTo: 1 << 16)
        var payload = JSONValue.null
        if buffer.readableBytes > 0 {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)) else {
                throw Problem(.badRequest, "the body is not JSON")
            }
            payload = value
        }
        let (executionID, stepID) = try await engine.redeemCallback(token, payload: payload)
        return try APIBody.response(Components.Schemas.CallbackReceipt(executionID: executionID, stepID: stepID), .accepted)
    }
}
