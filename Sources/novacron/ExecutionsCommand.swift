import ArgumentParser
import Foundation
import Orchestration
import OrchestrationAPI
import NIOHTTP1
import OrchestrationExecutors
import OrchestrationSQLite
import OrchestrationServer
#if canImport(Glibc)
    import Glibc
#endif

/// `novacron executions list|show|logs|resume`: the executions saved in the store.
struct ExecutionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executions",
        abstract: "Look at and carry on the executions saved in the store.",
        subcommands: [
            List.self, Show.self, Logs.self, Resume.self, Retry.self, Cancel.self, Approve.self, Reject.self, Signal.self, Callback.self,
            Concurrency.self, Prune.self,
        ]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Executions, newest first.")

        @OptionGroup var storeOptions: StoreOptions
        @Option(name: .long, help: "Only this workflow's executions.") var workflow: String?
        @Option(name: .long, help: "Only executions with this status (pending, running, paused, completed, failed, cancelled).") var status:
            ExecutionStatus?
        @Option(name: .long, help: "At most this many.") var limit = 20
        @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if remote.serverURL != nil {
                var query = "?limit=\(min(max(limit, 1), 1000))"
                if let workflow { query += "&workflow=\(workflow.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? workflow)" }
                if let status { query += "&status=\(status.rawValue)" }
                let page = try await remote.call(.GET, "/api/v1/executions" + query)
                guard case .object(let o) = page, case .array(let items)? = o["items"] else { return }
                if output == .json { return Console.out(JSONValue.array(items).prettyJSONText) }
                var rows = [["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION"]]
                for case .object(let e) in items {
                    let ms = (e["metrics"].flatMap { if case .object(let m) = $0 { return m["totalDurationMs"] } else { return nil } })
                    rows.append([
                        e["id"]?.text ?? "", e["workflowID"]?.text ?? "", e["status"]?.text ?? "", e["startedAt"]?.text ?? "-",
                        ms.map { ProgressDisplay.format(.clamped(seconds: (Double($0.text) ?? 0) / 1000)) } ?? "-",
                    ])
                }
                return Console.out(rows.count == 1 ? "no executions on \(remote.serverURL!)" : Table.render(rows))
            }
            let store = try await storeOptions.openExisting()
            let records = try await StoreCall.run { try await store.executions(workflowID: workflow, status: status, limit: limit) }
            switch output {
            case .json:
                Console.out(try APIBody.text(records.map { Components.Schemas.Execution($0.execution) }, pretty: true))
            case .text:
                guard !records.isEmpty else { return Console.out("no executions in \(storeOptions.location)") }
                var rows = [["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION"]]
                for r in records {
                    let e = r.execution
                    let duration =
                        e.finishedAt.flatMap { end in e.startedAt.map { ProgressDisplay.format(.clamped(seconds: end.timeIntervalSince($0))) } }
                        ?? "-"
                    rows.append([e.id, e.workflowID, e.status.rawValue, e.startedAt.map(ExecutionReport.iso) ?? "-", duration])
                }
                Console.out(Table.render(rows))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One execution: status, error, and a row per step and rollback.")

        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The execution id.") var id: String
        @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if remote.serverURL != nil {
                let e = try await remote.call(.GET, "/api/v1/executions/\(id)")
                if output == .json { return Console.out(e.prettyJSONText) }
                guard case .object(let o) = e else { return }
                var text = "\(o["id"]?.text ?? id)  \(o["workflowID"]?.text ?? "")  \(o["status"]?.text ?? "")"
                if let error = o["error"]?.text { text += "\nerror: \(error)" }
                if let key = o["concurrencyKey"]?.text { text += Self.keyLine(key, pending: o["status"]?.text == "pending") }
                var rows = [["STEP", "STATUS", "ATTEMPTS", "DURATION", "DETAIL"]]
                if case .array(let steps)? = o["steps"] {
                    for case .object(let step) in steps {
                        let detail = step["skipReason"]?.text ?? step["error"]?.text ?? ""
                        rows.append([
                            step["id"]?.text ?? "", step["status"]?.text ?? "", step["attempts"]?.text ?? "0",
                            step["startedAt"] == nil
                                ? "-" : ProgressDisplay.format(.clamped(seconds: (Double(step["durationMs"]?.text ?? "0") ?? 0) / 1000)),
                            String(detail.prefix(80)),
                        ])
                    }
                }
                return Console.out(text + "\n" + Table.render(rows))
            }
            let store = try await storeOptions.openExisting()
            let (record, workflow) = try await StoreCall.run { () -> (ExecutionRecord?, Workflow?) in
                guard let r = try await store.execution(id: id) else { return (nil, nil) }
                return (r, try await store.workflow(id: r.execution.workflowID, version: r.workflowHash))
            }
            guard let record else {
                Console.err("error: no execution '\(id)' in \(storeOptions.location)")
                throw ExitStatus.invalidInput
            }
            let e = record.execution
            let order = workflow?.steps.map(\.id) ?? e.stepResults.keys.filter { !StepResult.isRollbackID($0) }.sorted()
            switch output {
            case .json:
                Console.out(try APIBody.text(Components.Schemas.Execution(e, stepOrder: order), pretty: true))
            case .text:
                var text = "\(e.id)  \(e.workflowID)  \(e.status.rawValue)"
                if let s = e.startedAt { text += "  started \(ExecutionReport.iso(s))" }
                if let f = e.finishedAt, let s = e.startedAt { text += "  took \(ProgressDisplay.format(.clamped(seconds: f.timeIntervalSince(s))))" }
                if let error = e.error { text += "\nerror: \(error)" }
                if let key = e.concurrencyKey { text += Self.keyLine(key, pending: e.status == .pending) }
                if let parent = e.parent { text += "\nchild of execution \(parent.executionID) (step \(parent.stepID))" }
                if let outputs = e.outputs, !outputs.isEmpty { text += "\noutputs: \(JSONValue.object(outputs).jsonText)" }
                var rows = [["STEP", "STATUS", "ATTEMPTS", "DURATION", "DETAIL"]]
                let items = ForEach.counts(in: e.stepResults)
                for id in order {
                    for key in [id, StepResult.rollbackID(of: id)] {
                        guard let r = e.stepResults[key] ?? (key == id ? StepResult(stepID: id) : nil) else { continue }
                        var detail = r.skipReason ?? r.error ?? (r.cached ? "cached" : "")
                        if let counts = items[key] { detail = "\(counts)" + (detail.isEmpty ? "" : "; \(detail)") }
                        if let child = r.childExecutionID { detail = "child \(child)" + (detail.isEmpty ? "" : "; \(detail)") }
                        if let wait = r.waitReason { detail = "waiting for " + (wait == .approval ? "approval" : wait.words) }
                        rows.append([
                            key, r.status.rawValue, String(r.attempts), r.startedAt == nil ? "-" : ProgressDisplay.format(r.duration),
                            String(detail.prefix(80)),
                        ])
                    }
                }
                Console.out(text + "\n" + Table.render(rows))
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The kept log tail of each step (or one step).")

        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The execution id.") var id: String
        @Option(name: .long, help: "Only this step (its rollback is <id>.rollback).") var step: String?
        @Flag(name: .long, help: "Keep printing each step's log as the step ends, until the execution ends.") var follow = false
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if remote.serverURL != nil {
                if follow { throw ValidationError("--follow works on the store; against a server, watch /api/v1/executions/ID/events") }
                let query = step.map { "?step=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0)" } ?? ""
                let answer = try await remote.call(.GET, "/api/v1/executions/\(id)/logs" + query)
                guard case .object(let o) = answer, case .array(let steps)? = o["steps"] else { return }
                for case .object(let s) in steps {
                    if step == nil { Console.out("==> \(s["id"]?.text ?? "") <==") }
                    let log = s["log"]?.text ?? ""
                    if !log.isEmpty { FileHandle.standardOutput.write(Data(log.utf8)) }
                }
                return
            }
            let store = try await storeOptions.openExisting()
            if follow { return try await followLogs(store) }
            let (record, logs) = try await StoreCall.run { () -> (ExecutionRecord?, [(String, String)]) in
                guard let r = try await store.execution(id: id) else { return (nil, []) }
                let ids =
                    step.map { [$0] }
                    ?? r.execution.stepResults.values.sorted {
                        ($0.startedAt ?? .distantFuture, $0.stepID) < ($1.startedAt ?? .distantFuture, $1.stepID)
                    }.map(\.stepID)
                var out: [(String, String)] = []
                for s in ids { if let log = try await store.log(executionID: id, stepID: s) { out.append((s, log)) } }
                return (r, out)
            }
            guard record != nil else {
                Console.err("error: no execution '\(id)' in \(storeOptions.location)")
                throw ExitStatus.invalidInput
            }
            if let step, logs.isEmpty {
                Console.err("error: execution \(id) has no log for step '\(step)'")
                throw ExitStatus.invalidInput
            }
            for (s, log) in logs {
                if step == nil { Console.out("==> \(s) <==") }
                if !log.isEmpty { FileHandle.standardOutput.write(Data(log.utf8)) }
            }
        }

        /// Logs are saved when a step ends; this looks for newly ended steps every 200 ms (another
        /// process writes them) and prints each once, until the execution ends.
        func followLogs(_ store: any Store) async throws {
            var printed = Set<String>()
            while true {
                guard let record = try await StoreCall.run({ try await store.execution(id: id) }) else {
                    Console.err("error: no execution '\(id)' in \(storeOptions.location)")
                    throw ExitStatus.invalidInput
                }
                let ended = record.execution.stepResults.values
                    .filter { $0.status.isTerminal && !printed.contains($0.stepID) && (step == nil || $0.stepID == step) }
                    .sorted { ($0.finishedAt ?? .distantPast, $0.stepID) < ($1.finishedAt ?? .distantPast, $1.stepID) }
                for r in ended {
                    printed.insert(r.stepID)
                    let log = try await StoreCall.run { try await store.log(executionID: id, stepID: r.stepID) } ?? ""
                    if step == nil { Console.out("==> \(r.stepID) (\(r.status.rawValue)) <==") }
                    if !log.isEmpty { FileHandle.standardOutput.write(Data(log.utf8)) }
                }
                if record.execution.status.isTerminal { return }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Carry on an execution whose novacron process stopped (same as `novacron run --resume ID`).")

        @Argument(help: "The execution id.") var id: String
        @OptionGroup var storeOptions: StoreOptions
        @Option(name: .shortAndLong, help: "text or json.") var output: RunCommand.Format = .text

        func run() async throws {
            let command = try RunCommand.parse(
                ["--resume", id, "--output", output.rawValue]
                    + storeOptions.arguments)
            try await command.run()
        }
    }
}

extension ExecutionsCommand {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a new execution of a failed or cancelled one: same inputs, same workflow version, reusing the steps that succeeded.")

        @Argument(help: "The execution id.") var id: String
        @OptionGroup var storeOptions: StoreOptions
        @Option(name: .shortAndLong, help: "text or json.") var output: RunCommand.Format = .text
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if remote.serverURL != nil {
                let e = try await remote.call(.POST, "/api/v1/executions/\(id)/retry")
                if output == .json { return Console.out(e.prettyJSONText) }
                guard case .object(let o) = e else { return }
                return Console.out("started \(o["id"]?.text ?? "?") on \(remote.serverURL!), reusing the steps of \(id) that succeeded")
            }
            let store = try await storeOptions.openExisting()
            let (record, workflow) = try await StoreCall.run { () -> (ExecutionRecord?, Workflow?) in
                guard let r = try await store.execution(id: id) else { return (nil, nil) }
                return (r, try await store.workflow(id: r.execution.workflowID, version: r.workflowHash))
            }
            guard let record, let workflow else {
                Console.err("error: no execution '\(id)' in \(storeOptions.location)")
                throw ExitStatus.invalidInput
            }
            guard record.execution.status == .failed || record.execution.status == .cancelled else {
                Console.err("error: execution \(id) is \(record.execution.status.rawValue); only failed or cancelled executions can be retried")
                throw ExitStatus.invalidInput
            }
            let traces = try TraceSession.forCommand(logger: nil)
            var configuration = EngineConfiguration()
            configuration.tracer = traces.tracer
            let engine = WorkflowEngine(
                executors: .withCloudFunctions(), configuration: configuration, cache: (store as? any StepCache) ?? InMemoryStepCache(), store: store,
                learning: LearningEngine(store: store))
            let reuse = record.execution.stepResults.filter { $0.value.status == .success && !StepResult.isRollbackID($0.key) }
            var options = ExecutionOptions(maxParallelism: record.options.maxParallelism, trigger: record.options.trigger, reuse: reuse)
            options.traceParent = traces.parent
            let start = options
            let inputs = record.execution.inputs
            let final = try await traces.sending {
                try await RunCommand.drive(engine, workflow: workflow, output: output) { engine in
                    try await engine.registerWorkflow(workflow)
                    return try await engine.executeWorkflow(workflow.id, inputs: inputs, options: start).id
                }
            }
            switch output {
            case .json: Console.out(try APIBody.text(Components.Schemas.Execution(final, stepOrder: workflow.steps.map(\.id)), pretty: true))
            case .text: Console.out(ProgressDisplay.summary(final, workflow: workflow))
            }
            if final.status != .completed { throw ExitCode(1) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel an execution: running steps are stopped, then the steps that succeeded are rolled back.",
            discussion: """
                When a novacron process on this machine runs it, that process is asked to cancel
                (as with Ctrl-C). When none does (it was killed), this command carries it on just
                long enough to cancel it and run the rollbacks.
                """)

        @Argument(help: "The execution id.") var id: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if remote.serverURL != nil {
                let e = try await remote.call(.POST, "/api/v1/executions/\(id)/cancel")
                guard case .object(let o) = e else { return }
                return Console.out("\(id) \(o["status"]?.text ?? "")")
            }
            let store = try await storeOptions.openExisting()
            guard let record = try await StoreCall.run({ try await store.execution(id: id) }) else {
                Console.err("error: no execution '\(id)' in \(storeOptions.location)")
                throw ExitStatus.invalidInput
            }
            guard !record.execution.status.isTerminal else {
                Console.err("error: execution \(id) already \(record.execution.status.rawValue)")
                throw ExitStatus.invalidInput
            }
            if let owner = record.owner, let pid = ExecutionRecord.liveOtherProcess(owner) {
                kill(pid, SIGTERM)
                Console.out("asked process \(pid), which runs \(id), to cancel it; it stops the running steps and rolls back")
                return
            }
            let workflow = try await RunCommand.resumable(id, in: store)
            // Carried on to be cancelled, it stays in its trace: its rollbacks and its end are spans there.
            let traces = try TraceSession.forCommand(logger: nil)
            var configuration = EngineConfiguration()
            configuration.tracer = traces.tracer
            let engine = WorkflowEngine(
                executors: .withCloudFunctions(), configuration: configuration, cache: (store as? any StepCache) ?? InMemoryStepCache(),
                store: store, learning: LearningEngine(store: store))
            let final = try await traces.sending {
                try await RunCommand.drive(engine, workflow: workflow, output: .text) { engine in
                    guard try await engine.recover(only: [id]).first != nil else {
                        throw EngineError(.invalidInput, "execution \(id) could not be carried on to cancel it")
                    }
                    try? await engine.cancelExecution(id, reason: "cancelled by user")
                    return id
                }
            }
            Console.out(ProgressDisplay.summary(final, workflow: workflow))
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete executions that ended longer ago than a duration (running ones are kept).")

        @Option(name: .long, help: "A duration: 30d, 12h, 90m.") var olderThan: String
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let age: Duration
            do { age = try DurationText.parse(olderThan) } catch {
                throw ValidationError("--older-than '\(olderThan)': \(error.message)")
            }
            let store = try await storeOptions.openExisting()
            let cutoff = Date().addingTimeInterval(-age.seconds)
            let n = try await StoreCall.run { try await store.prune(endedBefore: cutoff) }
            Console.out("deleted \(n) execution\(n == 1 ? "" : "s") that ended before \(ExecutionReport.iso(cutoff))")
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension ExecutionStatus: ExpressibleByArgument {}

/// Store errors as a clear message and exit status 2.
enum StoreCall {
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as StoreError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").replacing(/\s+$/, with: "")
        }.joined(separator: "\n")
    }
}
