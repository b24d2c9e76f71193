import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Orchestration
import OrchestrationAPI

/// Starting executions (debug mode included) and listing and reading them.
extension APIController {
    func start(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.body.collect(upTo: 1 << 20)
        var inputs: [String: JSONValue] = [:]
        var options = ExecutionOptions()
        if body.readableBytes > 0 {
            let given = try APIBody.decode(
                Components.Schemas.ExecutionRequest.self, from: body, expected: "a JSON object: {\"inputs\": {…}, \"debug\": false}")
            inputs = given.inputValues
            // The guide's debug mode: paused before each step; each resume runs exactly one.
            options.debug = given.debug ?? false
        }
        // A repeated start with the same key (a client retrying after a timeout, on any node)
        // answers with the execution the first one started: 200 and `Idempotent-Replayed: true`.
        options.idempotencyKey = request.headers[Self.idempotencyKeyHeader]
        // A caller's trace (W3C traceparent) becomes the parent of the execution's.
        options.traceParent = request.traceHeaders
        let (execution, replayed) = try await engine.startExecution(id, inputs: inputs, options: options)
        var response = try APIBody.response(Components.Schemas.Execution(execution), replayed ? .ok : .created)
        if replayed { response.headers[Self.replayedHeader] = "true" }
        return response
    }

    static var idempotencyKeyHeader: HTTPField.Name { HTTPField.Name("Idempotency-Key")! }
    static var replayedHeader: HTTPField.Name { HTTPField.Name("Idempotent-Replayed")! }

    func listExecutions(_ request: Request, context: Context) async throws -> Response {
        try await listExecutions(request, context: context, workflow: request.uri.queryParameters.get("workflow"), mustExist: false)
    }

    /// Executions, newest first; of one workflow when `workflow` is set (404 when `mustExist` and
    /// the workflow is neither registered nor has any execution on record).
    func listExecutions(_ request: Request, context: Context, workflow: String?, mustExist: Bool) async throws -> Response {
        let page = try Page(request)
        var status: ExecutionStatus?
        if let s = request.uri.queryParameters.get("status") {
            guard let parsed = ExecutionStatus(rawValue: s) else {
                throw Problem(.badRequest, "status must be one of \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let executions: [WorkflowExecution]
        if let store {
            executions = try await store.executions(workflowID: workflow, status: status, limit: page.fetchCount).map(\.execution)
        } else {
            executions = await engine.listExecutions(workflowID: workflow, limit: page.fetchCount).filter { status == nil || $0.status == status }
        }
        if mustExist, executions.isEmpty, let workflow, await engine.workflow(workflow) == nil {
            throw Problem(.notFound, "no workflow '\(workflow)'")
        }
        let (items, next) = page.slice(executions)
        return try APIBody.response(
            Components.Schemas.ExecutionPage(items: items.map { .init($0) }, offset: page.offset, limit: page.limit, nextOffset: next))
    }

    func getExecution(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        if let live = try? await engine.getExecution(id) {
            let order = await engine.stepOrder(ofExecution: id)
            return try APIBody.response(Components.Schemas.Execution(live, stepOrder: order))
        }
        if let store, let record = try await store.execution(id: id) {
            return try APIBody.response(Components.Schemas.Execution(record.execution))
        }
        throw Problem(.notFound, "no execution '\(id)'")
    }
}
