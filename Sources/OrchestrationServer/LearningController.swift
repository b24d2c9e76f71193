import Foundation
import Hummingbird
import NIOCore
import Orchestration

/// `/api/v1/learning/…`: what the learning engine learned about a workflow (patterns), what it
/// suggests, applying a suggestion, and the audit trail of applied and reverted optimizations.
struct LearningController<Context: RequestContext>: Sendable {
    let engine: WorkflowEngine
    let scheduler: TriggerScheduler
    let control: AccessControl

    func addRoutes(to api: Routes<Context>) {
        api.get("learning/patterns/:id", .role(.viewer), use: pattern)
        api.get("learning/suggestions/:id", .role(.viewer), use: suggestions)
        // Applying a suggestion changes a workflow's definition, like registering one.
        api.post("learning/suggestions/:id/apply", .role(.admin), use: apply)
        api.get("learning/audit/:id", .role(.viewer), use: audit)
    }

    func learning() throws -> LearningEngine {
        guard let learning = engine.learning else { throw Problem(.notImplemented, "the learning engine is off on this server") }
        return learning
    }

    func known(_ id: String) async throws -> Workflow {
        guard let workflow = await engine.workflow(id) else { throw Problem(.notFound, "no workflow '\(id)'") }
        return workflow
    }

    func pattern(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let workflow = try await known(id)
        let pattern = try await learning().pattern(workflowID: id, stepOrder: workflow.steps.map(\.id))
        return try JSONValue(encoding: pattern).response()
    }

    func suggestions(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let workflow = try await known(id)
        let learning = try learning()
        let pattern = await learning.pattern(workflowID: id)
        let suggestions = await learning.suggestions(for: workflow)
        return JSONValue.object([
            "workflowID": .string(id), "executions": .number(Double(pattern.executions)),
            "executionsNeeded": .number(Double(pattern.executionsNeeded)), "minConfidence": .number(learning.configuration.minConfidence),
            "suggestions": .array(suggestions.map(\.json)),
        ]).response()
    }

    func apply(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        _ = try await known(id)
        _ = try learning()
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: body).utf8)),
            case .string(let suggestion)? = value["id"]
        else {
            throw Problem(.badRequest, "the body is {\"id\": SUGGESTION_ID}, an id from GET /api/v1/learning/suggestions/\(id)")
        }
        let principal = control.principal(of: request)
        let by = principal?.authenticated == true ? principal!.name : "api"
        let record = try await engine.applySuggestion(suggestion, workflowID: id, by: by)
        await scheduler.wake()
        return try JSONValue(encoding: record).response(.created)
    }

    func audit(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let records = try await learning().audit(workflowID: id)
        return JSONValue.object(["workflowID": .string(id), "records": .array(try records.map { try JSONValue(encoding: $0) })]).response()
    }
}
