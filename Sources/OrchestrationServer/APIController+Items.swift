import Foundation
import Hummingbird
import Orchestration
import OrchestrationAPI

extension APIController {
    /// `{"items": […]}`: the results of a forEach step's items in item order (`?status=` filters).
    func stepItems(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let stepID = try context.parameters.require("step")
        let results: [String: StepResult]
        if let live = try? await engine.getExecution(id) {
            results = live.stepResults
        } else if let store, let record = try await store.execution(id: id) {
            results = record.execution.stepResults
        } else {
            throw Problem(.notFound, "no execution '\(id)'")
        }
        guard let step = results[stepID], !StepResult.isItemID(stepID) else {
            throw Problem(.notFound, "execution \(id) has no result for step '\(stepID)' (yet)")
        }
        guard step.itemCount != nil else {
            throw Problem(.notFound, "step '\(stepID)' of execution \(id) has no items: it is not a forEach step, or its list is not known yet")
        }
        var wanted: StepStatus?
        if let text = request.uri.queryParameters.get("status") {
            guard let status = StepStatus(rawValue: String(text)) else {
                throw Problem(
                    .badRequest, "status '\(text)' is not a step status; use one of \(StepStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            wanted = status
        }
        let items = ForEach.items(of: stepID, in: results).filter { wanted == nil || $0.status == wanted }
        return try APIBody.response(Components.Schemas.ItemList(items: items.map { .init($0) }))
    }
}

extension APIController {
    /// `{"key", "holders": […], "waiting": […]}`: who holds a concurrency key, and who waits in order.
    func concurrencyKey(_ request: Request, context: Context) async throws -> Response {
        // Path parameters arrive as sent: a key with `:`, `/`, spaces or non-ASCII is percent-encoded.
        let raw = try context.parameters.require("key")
        let key = raw.removingPercentEncoding ?? raw
        if let problem = ConcurrencyPolicy.checkKey(key) { throw Problem(.badRequest, problem) }
        let slots: [ConcurrencySlot]
        do { slots = try await engine.concurrencySlots(key: key) } catch {
            throw Problem(.serviceUnavailable, "cannot read the concurrency key: \(error)")
        }
        func item(_ s: ConcurrencySlot) -> Components.Schemas.ConcurrencySlot {
            .init(executionID: s.executionID, stepID: s.stepID.isEmpty ? nil : s.stepID, since: s.since)
        }
        return try APIBody.response(
            Components.Schemas.ConcurrencyKey(key: key, holders: slots.filter(\.holding).map(item), waiting: slots.filter { !$0.holding }.map(item)))
    }
}
