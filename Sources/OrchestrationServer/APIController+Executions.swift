import Foundation
import Hummingbird
import NIOCore
import Orchestration

/// Starting executions (debug mode included) and listing and reading them.
extension APIController {
    func start(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.body.collect(upTo: 1 << 20)
        var inputs: [String: JSONValue] = [:]
        var options = ExecutionOptions()
        if body.readableBytes > 0 {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: body).utf8)), case .object(let o) = value else {
                throw Problem(.badRequest, "the body must be a JSON object: {\"inputs\": {…}, \"debug\": false}")
            }
            if let unknown = o.keys.first(where: { $0 != "inputs" && $0 != "debug" }) {
                throw Problem(.badRequest, "unknown field '\(unknown)'; the body may have 'inputs' and 'debug'")
            }
            if let i = o["inputs"] {
                guard case .object(let given) = i else { throw Problem(.badRequest, "inputs must be an object of name: value") }
                inputs = given
            }
            if let d = o["debug"] {
                // The guide's debug mode: paused before each step; each resume runs exactly one.
                guard case .bool(let on) = d else { throw Problem(.badRequest, "debug must be true or false") }
                options.debug = on
            }
        }
        let execution = try await engine.executeWorkflow(id, inputs: inputs, options: options)
        return ExecutionReport.json(execution).response(.created)
    }

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
        return page.slice(executions.map { ExecutionReport.json($0) }, complete: false).response()
    }

    func getExecution(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        if let live = try? await engine.getExecution(id) {
            let order = await engine.workflow(live.workflowID)?.steps.map(\.id)
            return ExecutionReport.json(live, stepOrder: order).response()
        }
        if let store, let record = try await store.execution(id: id) {
            return ExecutionReport.json(record.execution).response()
        }
        throw Problem(.notFound, "no execution '\(id)'")
    }
}
