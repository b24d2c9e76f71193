import Foundation
import Hummingbird
import NIOCore
import Orchestration
import OrchestrationAPI

/// The REST API under `/api/v1`: workflows and executions (docs/server.md).
struct APIController<Context: RequestContext>: Sendable {
    let engine: WorkflowEngine
    let store: (any WorkflowStore & ExecutionStore)?
    let scheduler: TriggerScheduler
    let control: AccessControl
    let gate: StreamGate
    /// The largest definition a request may carry, in bytes (``ServerConfiguration/maxDefinitionBytes``).
    let definitionLimit: Int

    func addRoutes(to api: Routes<Context>) {
        // Registering and deleting workflows is for admins (a definition runs commands); running
        // them and operating executions is for operators; reading is for viewers.
        api.post("workflows", .role(.admin), accepts: MediaType.definitions, use: register)
        api.get("workflows", .role(.viewer), use: listWorkflows)
        api.get("workflows/:id", .role(.viewer), use: getWorkflow)
        api.get("workflows/:id/plan", .role(.viewer), use: plan)
        api.delete("workflows/:id", .role(.admin)) { _, context -> Response in
            try await self.engine.unregisterWorkflow(try context.parameters.require("id"))
            await self.scheduler.wake()
            return Response(status: .noContent)
        }
        api.get("workflows/:id/versions", .role(.viewer)) { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let store = self.store else { throw Problem(.notFound, "no saved versions of '\(id)': this server runs without a store") }
            let versions = try await store.workflowVersions(id: id)
            guard !versions.isEmpty else { throw Problem(.notFound, "no workflow '\(id)'") }
            let body: Components.Schemas.WorkflowVersions = versions.map { .init(version: $0.version, savedAt: $0.savedAt) }
            return try APIBody.response(body)
        }
        api.post("workflows/:id/executions", .role(.operator), use: start)
        api.post("workflows/:id/backfill", .role(.operator), use: backfill)
        api.get("workflows/:id/executions", .role(.viewer)) { request, context in
            let id = try context.parameters.require("id")
            return try await self.listExecutions(request, context: context, workflow: id, mustExist: true)
        }
        api.get("executions", .role(.viewer), use: listExecutions)
        api.get("executions/:id", .role(.viewer), use: getExecution)
        api.get("workflows/executions/:id", .role(.viewer), use: getExecution)
        // A workflow saved as 'executions' before that id was reserved can still be read and deleted.
        api.get("workflows/executions", .role(.viewer)) { request, context in try await self.getWorkflow(request, context: context, id: "executions")
        }
        api.delete("workflows/executions", .role(.admin)) { _, _ -> Response in
            try await self.engine.unregisterWorkflow("executions")
            await self.scheduler.wake()
            return Response(status: .noContent)
        }
        api.get("executions/:id/events", .role(.viewer), use: events)
        api.get("executions/:id/logs", .role(.viewer), use: logs)
        api.get("executions/:id/attempts", .role(.viewer), use: attempts)
        api.get("executions/:id/steps/:step/items", .role(.viewer), use: stepItems)
        api.post("executions/:id/steps/:step/approve", .role(.operator), use: approve)
        api.post("executions/:id/steps/:step/reject", .role(.operator), use: reject)
        api.post("executions/:id/signals/:name", .role(.operator), use: signal)
        api.get("concurrency/:key", .role(.viewer), use: concurrencyKey)
        api.post("executions/:id/steps/:step/callback", .role(.operator), use: mintCallback)
        api.post("callbacks/:token", .open, use: useCallback)
        api.get("openapi.json", .open) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        let control = api.control
        api.get("whoami", .role(.viewer)) { request, _ in
            let principal = try control.authorize(request, .role(.viewer))
            return try APIBody.response(Components.Schemas.Identity(role: .init(principal.role), authenticated: principal.authenticated))
        }
        api.post("executions/:id/cancel", .role(.operator)) { request, context in
            try await self.operate(request, context, .cancel(reason: "cancelled by user"))
        }
        api.post("executions/:id/pause", .role(.operator)) { request, context in try await self.operate(request, context, .pause) }
        api.post("executions/:id/resume", .role(.operator)) { request, context in try await self.operate(request, context, .resume) }
        api.post("executions/:id/retry", .role(.operator), use: retry)
        api.get("triggers", .role(.viewer)) { request, _ in
            let workflow = request.uri.queryParameters.get("workflow").map { String($0) }
            return try APIBody.response(Components.Schemas.TriggerList(triggers: await self.scheduler.status(workflowID: workflow).map { .init($0) }))
        }
        api.get("workflows/:id/triggers", .role(.viewer)) { _, context in
            let id = try context.parameters.require("id")
            guard await self.engine.workflow(id) != nil else { throw Problem(.notFound, "no workflow '\(id)'") }
            return try APIBody.response(Components.Schemas.TriggerList(triggers: await self.scheduler.status(workflowID: id).map { .init($0) }))
        }
        // Switching a trigger on or off is operating, like pausing an execution.
        for (verb, on) in [("enable", true), ("disable", false)] {
            api.post("workflows/:id/triggers/:trigger/\(verb)", .role(.operator)) { _, context in
                let id = try context.parameters.require("id"), trigger = try context.parameters.require("trigger")
                try await self.scheduler.setEnabled(workflowID: id, triggerID: trigger, on)
                guard let status = await self.scheduler.status(workflowID: id).first(where: { $0.trigger.id == trigger }) else {
                    throw Problem(.notFound, "no trigger '\(trigger)'")
                }
                return try APIBody.response(Components.Schemas.Trigger(status))
            }
        }
    }

    func register(_ request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: definitionLimit) } catch is NIOTooManyBytesError {
            throw Problem(
                .contentTooLarge,
                "the definition is larger than \(definitionLimit) bytes (\(WorkflowDecoder.describe(bytes: definitionLimit))), this server's limit (maxDefinitionBytes)"
            )
        }
        guard let source = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw Problem(.badRequest, "the definition is not UTF-8 text")
        }
        let document = try WorkflowLoader.load(source: source, file: "request", maximumBytes: definitionLimit)
        guard document.workflow.id != "executions" else {
            throw Problem(
                .unprocessableContent,
                "the workflow id 'executions' is reserved (/api/v1/workflows/executions/{id} reads an execution); give the workflow another id")
        }
        try await engine.registerWorkflow(document)
        await scheduler.wake()
        return try APIBody.response(Components.Schemas.WorkflowSummary(await engine.workflow(document.workflow.id) ?? document.workflow), .created)
    }

    func listWorkflows(_ request: Request, context: Context) async throws -> Response {
        let page = try Page(request)
        let all = await engine.registeredWorkflows()
        let (items, next) = page.slice(all)
        return try APIBody.response(
            Components.Schemas.WorkflowPage(
                items: items.map { .init($0) }, offset: page.offset, limit: page.limit, nextOffset: next, total: all.count))
    }

    func getWorkflow(_ request: Request, context: Context) async throws -> Response {
        try await getWorkflow(request, context: context, id: try context.parameters.require("id"))
    }

    func getWorkflow(_ request: Request, context: Context, id: String) async throws -> Response {
        guard let workflow = await engine.workflow(id) else {
            throw Problem(.notFound, "no workflow '\(id)'")
        }
        return try APIBody.response(Components.Schemas.WorkflowDetail(workflow))
    }

    func plan(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let workflow = await engine.workflow(id) else {
            throw Problem(.notFound, "no workflow '\(id)'")
        }
        guard let graph = WorkflowValidator().validate(workflow).graph else { throw Problem(.conflict, "workflow \(id) no longer validates") }
        let plan = PlanRenderer(plan: Planner().plan(graph), graph: graph).json(warnings: [])
        return try APIBody.response(try APIBody.transcode(plan, as: Components.Schemas.Plan.self))
    }

    /// Server-Sent Events: `execution` (the state now), then each lifecycle event as it happens,
    /// ending after `executionFinished`.
    func events(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let ticket = try gate.enter(control.callerName(of: request))
        let stream = engine.events()  // subscribe first, so nothing between the snapshot and it is lost
        guard let now = try? await engine.getExecution(id) else {
            if let store, let record = try await store.execution(id: id) {
                // Another node runs it: its events come from the store (on a shared store).
                let remote =
                    store is any ExecutionLeases && !record.execution.status.isTerminal
                    ? RemoteExecutionEvents.stream(id, store: store, seen: record) : nil
                return sse(snapshot: try APIBody.text(Components.Schemas.Execution(record.execution)), stream: remote, id: id, ticket: ticket)
            }
            throw Problem(.notFound, "no execution '\(id)'")
        }
        let order = await engine.stepOrder(ofExecution: id)
        return sse(
            snapshot: try APIBody.text(Components.Schemas.Execution(now, stepOrder: order)), stream: now.status.isTerminal ? nil : stream, id: id,
            ticket: ticket)
    }

    func sse(snapshot: String, stream: AsyncStream<ExecutionEvent>?, id: String, ticket: StreamGate.Ticket) -> Response {
        let stallTimeout = gate.limits.stallTimeout, heartbeat = gate.limits.heartbeat
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await streamEvents(to: &writer, stallTimeout: stallTimeout) { send in
                    _ = ticket  // the stream holds its place until it ends
                    try await send("event: execution\ndata: \(snapshot)\n\n")
                    guard let stream else { return }
                    // The execution's events, and a heartbeat comment while it is quiet (a paused
                    // execution), so a client that left is noticed and its place given back.
                    let (merged, sink) = AsyncStream<ExecutionEvent?>.makeStream()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in stream where event.executionID == id { sink.yield(event) }
                            sink.finish()
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: heartbeat)
                                sink.yield(nil)
                            }
                        }
                        for await event in merged {
                            guard let event else {
                                try await send(": heartbeat\n\n")
                                continue
                            }
                            try await send("event: \(event.name)\ndata: \(event.json.jsonText)\n\n")
                            if case .executionFinished = event { break }
                        }
                        group.cancelAll()
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// `{"steps": [{"id", "log"}]}`: the kept log tail of each step (or `?step=`).
    func logs(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let only: String? = request.uri.queryParameters.get("step").map { String($0) }
        var results: [StepResult]
        if let live = try? await engine.getExecution(id) {
            results = Array(live.stepResults.values)
        } else if let store, let record = try await store.execution(id: id) {
            results = Array(record.execution.stepResults.values)
        } else {
            throw Problem(.notFound, "no execution '\(id)'")
        }
        results.sort { ($0.startedAt ?? .distantFuture, $0.stepID) < ($1.startedAt ?? .distantFuture, $1.stepID) }
        if let only {
            results = results.filter { $0.stepID == only }
            if results.isEmpty { throw Problem(.notFound, "execution \(id) has no step '\(only)'") }
        }
        var out: [Components.Schemas.StepLog] = []
        for r in results {
            var log = (try? await engine.log(executionID: id, stepID: r.stepID)) ?? ""
            if log.isEmpty, let store { log = (try await store.log(executionID: id, stepID: r.stepID)) ?? "" }
            out.append(.init(id: r.stepID, status: .init(r.status), log: log))
        }
        return try APIBody.response(Components.Schemas.ExecutionLogs(steps: out))
    }

    /// `{"attempts": […]}`: every attempt of every step in start order, from the store; without one,
    /// each step's last attempt.
    func attempts(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let live = try? await engine.getExecution(id)
        var records: [AttemptRecord] = []
        if let store {
            records = try await store.attempts(executionID: id, stepID: nil)
            if records.isEmpty, live == nil, try await store.execution(id: id) == nil { throw Problem(.notFound, "no execution '\(id)'") }
            // The engine knows a step ended a moment before the store has it saved: show what it knows.
            if let live {
                for (i, a) in records.enumerated() where a.status == .running {
                    guard let r = live.stepResults[a.stepID], r.status.isTerminal, r.attempts == a.attempt else { continue }
                    records[i].status = Self.attemptStatus(r)
                    records[i].finishedAt = r.finishedAt
                    records[i].error = r.error
                    records[i].exitCode = r.exitCode
                }
            }
        } else {
            guard let live else { throw Problem(.notFound, "no execution '\(id)'") }
            for r in live.stepResults.values {
                guard let started = r.startedAt else { continue }
                records.append(
                    AttemptRecord(
                        executionID: id, stepID: r.stepID, attempt: max(r.attempts, 1), status: Self.attemptStatus(r), startedAt: started,
                        finishedAt: r.finishedAt, error: r.error, exitCode: r.exitCode))
            }
        }
        records.sort { ($0.startedAt, $0.stepID, $0.attempt) < ($1.startedAt, $1.stepID, $1.attempt) }
        return try APIBody.response(Components.Schemas.AttemptList(attempts: records.map { .init($0) }))
    }

    /// The attempt status a step's result stands for (its last attempt).
    static func attemptStatus(_ r: StepResult) -> AttemptStatus {
        switch r.status {
        case .running, .pending: .running
        case .success: r.cached ? .cached : .succeeded
        case .failed: r.timedOut ? .timedOut : .failed
        case .cancelled, .skipped: .cancelled
        }
    }

    /// 200 with the execution once done here; 202 with it as saved when another node of the
    /// cluster runs it and was handed the command.
    func operate(_ request: Request, _ context: Context, _ command: ExecutionCommand) async throws -> Response {
        let id = try context.parameters.require("id")
        if try await engine.send(command, to: id) {
            return try APIBody.response(Components.Schemas.Execution(try await engine.getExecution(id)))
        }
        guard let record = try await store?.execution(id: id) else { throw Problem(.notFound, "no execution '\(id)'") }
        return try APIBody.response(Components.Schemas.Execution(record.execution), .accepted)
    }

    func retry(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        var options = ExecutionOptions()
        options.traceParent = request.traceHeaders
        return try APIBody.response(Components.Schemas.Execution(try await engine.retryExecution(id, options: options)), .created)
    }
}

/// `?limit=&offset=` on lists: `{"items": […], "offset": 0, "limit": 50, "nextOffset": 50 | null}`, and
/// `total` where it is known without counting everything (workflows).
struct Page {
    var offset: Int
    var limit: Int

    init(_ request: Request) throws {
        let q = request.uri.queryParameters
        offset = 0
        limit = 50
        if let o = q.get("offset") {
            guard let v = Int(o), (0...1_000_000_000).contains(v) else { throw Problem(.badRequest, "offset must be a number from 0 to 1000000000") }
            offset = v
        }
        if let l = q.get("limit") {
            guard let v = Int(l), (1...1000).contains(v) else { throw Problem(.badRequest, "limit must be a number from 1 to 1000") }
            limit = v
        }
    }

    /// How many items to ask a source for: this page and one more, to know whether another page follows.
    var fetchCount: Int { offset + limit + 1 }

    /// This page of `items` (which start at offset 0), and the offset of the next page if another follows.
    func slice<T>(_ items: [T]) -> (items: [T], nextOffset: Int?) {
        (Array(items.dropFirst(offset).prefix(limit)), items.count > offset + limit ? offset + limit : nil)
    }
}
