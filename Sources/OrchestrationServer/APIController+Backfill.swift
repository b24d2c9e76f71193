import Foundation
import Hummingbird
import Logging
import Orchestration
import OrchestrationAPI

/// `POST /api/v1/workflows/{id}/backfill`: one execution per past tick of a workflow's schedule.
extension APIController {
    func backfill(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await request.body.collect(upTo: 1 << 16)
        let given = try APIBody.decode(
            Components.Schemas.BackfillRequest.self, from: body, expected: "a JSON object: {\"from\": \"2026-11-01\", \"to\": \"2026-11-02\"}")
        var range: [Date] = []
        for (name, text) in [("from", given.from), ("to", given.to)] {
            guard let time = TimeText.parse(text) else {
                throw Problem(
                    .badRequest, "\(name) '\(text.prefix(60))' is not a date (2026-11-01) or an ISO 8601 time with its offset (2026-11-01T06:00:00Z)")
            }
            range.append(time)
        }
        let maxParallel = given.maxParallel ?? 1
        guard (1...1000).contains(maxParallel) else { throw Problem(.badRequest, "maxParallel must be from 1 to 1000") }
        guard let store else {
            throw Problem(.notImplemented, "a backfill skips the ticks the store has executions of; this server runs without a store")
        }
        if await engine.workflow(id) == nil { try? await engine.syncWorkflows() }
        guard let workflow = await engine.workflow(id) else { throw Problem(.notFound, "no workflow '\(id)'") }
        let plan = try Backfill(workflow: workflow, triggerID: given.trigger, from: range[0], to: range[1])
        let done = try await plan.done(in: store)
        let todo = plan.ticks.filter { !done.contains(TimeText.format($0)) }
        let dryRun = given.dryRun ?? false
        if !dryRun, !todo.isEmpty {
            // In the background, on this node: the answer is the plan. A node that stops midway
            // leaves the rest to a second post of the same backfill (the ticks done are skipped).
            let engine = self.engine, trace = request.traceHeaders
            Task {
                await plan.run(todo, on: engine, maxParallel: maxParallel, traceParent: trace) { outcome in
                    engine.logger.info(
                        "backfill tick",
                        metadata: [
                            "workflow": "\(plan.workflowID)", "tick": "\(TimeText.format(outcome.tick))",
                            "execution": "\(outcome.executionID ?? "-")",
                            "status": "\(outcome.status?.rawValue ?? "not started")", "error": "\(outcome.error ?? "")",
                        ])
                }
            }
        }
        let answer = Components.Schemas.BackfillPlan(
            workflow: plan.workflowID, trigger: plan.trigger.id, dryRun: dryRun,
            skipped: plan.ticks.filter { done.contains(TimeText.format($0)) }.map(TimeText.format), toRun: todo.map(TimeText.format))
        return try APIBody.response(answer, dryRun ? .ok : .accepted)
    }
}
