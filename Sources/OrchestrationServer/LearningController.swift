import Foundation
import Hummingbird
import NIOCore
import Orchestration
import OrchestrationAPI

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
        return try APIBody.response(try APIBody.transcode(try JSONValue(encoding: pattern), as: Components.Schemas.Pattern.self))
    }

    func suggestions(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let workflow = try await known(id)
        let learning = try learning()
        let pattern = await learning.pattern(workflowID: id)
        let suggestions = await learning.suggestions(for: workflow)
        return try APIBody.response(
            Components.Schemas.SuggestionList(
                workflowID: id, executions: pattern.executions, executionsNeeded: pattern.executionsNeeded,
                minConfidence: learning.configuration.minConfidence,
                suggestions: try suggestions.map { try APIBody.transcode($0.json, as: Components.Schemas.Suggestion.self) }))
    }

    func apply(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        // The body first, as every operation that takes one: a malformed one is a 400 wherever it goes.
        let body = try await request.body.collect(upTo: 64 * 1024)
        let suggestion = try APIBody.decode(
            Components.Schemas.SuggestionChoice.self, from: body,
            expected: "{\"id\": SUGGESTION_ID}, an id from GET /api/v1/learning/suggestions/\(id)"
        ).id
        _ = try await known(id)
        _ = try learning()
        let principal = control.principal(of: request)
        let by = principal?.authenticated == true ? principal!.name : "api"
        let record = try await engine.applySuggestion(suggestion, workflowID: id, by: by)
        await scheduler.wake()
        return try APIBody.response(try APIBody.transcode(try JSONValue(encoding: record), as: Components.Schemas.OptimizationRecord.self), .created)
    }

    func audit(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let records = try await learning().audit(workflowID: id)
        return try APIBody.response(
            Components.Schemas.AuditTrail(
                workflowID: id,
                records: try records.map { try APIBody.transcode(try JSONValue(encoding: $0), as: Components.Schemas.OptimizationRecord.self) }))
    }
}
