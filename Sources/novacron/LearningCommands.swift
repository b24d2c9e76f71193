import ArgumentParser
import Foundation
import Orchestration
import NIOHTTP1
import OrchestrationExecutors
import OrchestrationSQLite

/// The learning engine's view of a workflow, read from the store (or a server): shared by
/// `patterns` and `suggest`.
struct LearningSource {
    var storeOptions: StoreOptions
    var remote: RemoteOptions

    /// The pattern, as the API returns it.
    func pattern(_ workflowID: String) async throws -> JSONValue {
        if remote.serverURL != nil { return try await remote.call(.GET, "/api/v1/learning/patterns/\(workflowID)") }
        let (workflow, learning) = try await local(workflowID)
        return try JSONValue(encoding: await learning.pattern(workflowID: workflowID, stepOrder: workflow.steps.map(\.id)))
    }

    func suggestions(_ workflowID: String) async throws -> JSONValue {
        if remote.serverURL != nil { return try await remote.call(.GET, "/api/v1/learning/suggestions/\(workflowID)") }
        let (workflow, learning) = try await local(workflowID)
        let pattern = await learning.pattern(workflowID: workflowID)
        let suggestions = await learning.suggestions(for: workflow)
        return [
            "workflowID": .string(workflowID), "executions": .number(Double(pattern.executions)),
            "executionsNeeded": .number(Double(pattern.executionsNeeded)), "suggestions": .array(suggestions.map(\.json)),
        ]
    }

    func apply(_ suggestionID: String, workflowID: String) async throws -> JSONValue {
        if remote.serverURL != nil {
            return try await remote.call(.POST, "/api/v1/learning/suggestions/\(workflowID)/apply", body: ["id": .string(suggestionID)])
        }
        let store = try await storeOptions.openExisting()
        let (workflow, learning) = try await local(workflowID, store: store)
        let engine = WorkflowEngine(executors: .withCloudFunctions(), store: store, learning: learning)
        try await engine.registerWorkflow(workflow)
        do {
            return try JSONValue(
                encoding: try await engine.applySuggestion(
                    suggestionID, workflowID: workflowID, by: "cli (\(ProcessInfo.processInfo.environment["USER"] ?? "unknown user"))"))
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    func local(_ workflowID: String, store given: (any Store)? = nil) async throws -> (Workflow, LearningEngine) {
        let store: any Store
        if let given { store = given } else { store = try await storeOptions.openExisting() }
        guard let workflow = try await store.registeredWorkflows().first(where: { $0.id == workflowID }) else {
            Console.err("error: no workflow '\(workflowID)' in \(storeOptions.location); run it first (novacron run FILE)")
            throw ExitStatus.invalidInput
        }
        return (workflow, LearningEngine(store: store))
    }
}

extension JSONValue {
    var number: Double? { if case .number(let n) = self { n } else { nil } }
}

/// `novacron patterns WORKFLOW`.
struct PatternsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patterns",
        abstract: "What the learning engine learned about a workflow: success rates, durations, retries, timeouts, failures, regressions.",
        discussion:
            "Read from the store (--db) or a server (--server). A workflow needs 10 executions before it has a pattern; until then this says how many more."
    )

    @Argument(help: "The workflow id.") var workflow: String
    @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var remote: RemoteOptions

    func run() async throws {
        let pattern = try await LearningSource(storeOptions: storeOptions, remote: remote).pattern(workflow)
        if output == .json { return Console.out(pattern.jsonText) }
        Console.out(LearningText.pattern(pattern))
    }
}

/// `novacron suggest WORKFLOW [--apply ID]`.
struct SuggestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "The learning engine's suggestions for a workflow, with their confidence and evidence; --apply makes one a new version.",
        discussion: """
            Each suggestion is a JSON Patch of the definition. --apply ID registers the patched
            workflow as a new version (in the store, or on the server with --server) and records
            who applied what in the audit trail; the file you run from is not changed.
            """)

    @Argument(help: "The workflow id.") var workflow: String
    @Option(name: .long, help: ArgumentHelp("Apply this suggestion (an id from the list).", valueName: "id")) var apply: String?
    @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var remote: RemoteOptions

    func run() async throws {
        let source = LearningSource(storeOptions: storeOptions, remote: remote)
        if let apply {
            let record = try await source.apply(apply, workflowID: workflow)
            if output == .json { return Console.out(record.jsonText) }
            return Console.out(
                "applied \(apply): \(workflow) is now version \(record["afterVersion"]?.text.prefix(12) ?? "?") (was \(record["beforeVersion"]?.text.prefix(12) ?? "?"))\n\(record["reason"]?.text ?? "")"
            )
        }
        let answer = try await source.suggestions(workflow)
        if output == .json { return Console.out(answer.jsonText) }
        Console.out(LearningText.suggestions(answer))
    }
}

/// Text renderings of the learning API's answers.
enum LearningText {
    static func seconds(_ value: JSONValue?) -> String {
        guard let s = value?.number else { return "-" }
        return DurationText.format(.clamped(seconds: (s * 1000).rounded() / 1000))
    }

    static func percent(_ value: JSONValue?) -> String {
        guard let p = value?.number else { return "-" }
        return String(format: "%.1f%%", p * 100)
    }

    static func pattern(_ p: JSONValue) -> String {
        let id = p["workflowID"]?.text ?? "?"
        let executions = Int(saturating: p["executions"]?.number ?? 0), needed = Int(saturating: p["executionsNeeded"]?.number ?? 0)
        if needed > 0 {
            return
                "\(id): \(executions) execution\(executions == 1 ? "" : "s"); a pattern needs \(Int(saturating: p["minimumExecutions"]?.number ?? 10)) (\(needed) more)"
        }
        var out = "\(id): \(executions) executions, \(percent(p["successRate"])) succeeded"
        if let d = p["duration"] {
            out +=
                "; duration mean \(seconds(d["mean"])), p50 \(seconds(d["p50"])), p95 \(seconds(d["p95"])), p99 \(seconds(d["p99"])) (EWMA \(seconds(d["ewma"])))"
        }
        out += "\n\n"
        var rows = [["STEP", "RUNS", "SUCCESS", "1ST-FAIL", "RECOVERED", "TIMEOUTS", "CACHED", "P50", "P95", "QUEUE-P95"]]
        var regressions: [String] = []
        if case .array(let steps)? = p["steps"] {
            for s in steps {
                rows.append([
                    s["stepID"]?.text ?? "?", "\(Int(saturating: s["runs"]?.number ?? 0))", percent(s["successRate"]),
                    percent(s["firstAttemptFailureRate"]),
                    percent(s["retryRecoveryRate"]), percent(s["timeoutRate"]), percent(s["cacheHitRate"]),
                    seconds(s["duration"]?["p50"]), seconds(s["duration"]?["p95"]), seconds(s["queueWait"]?["p95"]),
                ])
                if let r = s["regression"] {
                    regressions.append(
                        "  \(s["stepID"]?.text ?? "?"): \(String(format: "%.1f", r["ratio"]?.number ?? 0))× slower over its last \(Int(saturating: r["recentRuns"]?.number ?? 0)) runs (\(seconds(r["baselineMedian"])) → \(seconds(r["recentMedian"])), p = \(String(format: "%.1e", r["pValue"]?.number ?? 1)))"
                    )
                }
            }
        }
        out += Table.render(rows)
        if case .array(let failures)? = p["commonFailures"], !failures.isEmpty {
            out +=
                "\n\nCommon failures:\n"
                + failures.map { f in
                    let steps = (f["steps"].map { if case .array(let a) = $0 { a.map(\.text) } else { [] } } ?? []).joined(separator: ", ")
                    return "  \(Int(saturating: f["count"]?.number ?? 0))× \(f["signature"]?.text ?? "")\(steps.isEmpty ? "" : " [\(steps)]")"
                }.joined(separator: "\n")
        }
        if !regressions.isEmpty { out += "\n\nDuration regressions:\n" + regressions.joined(separator: "\n") }
        return out
    }

    static func suggestions(_ answer: JSONValue) -> String {
        let id = answer["workflowID"]?.text ?? "?"
        guard case .array(let list)? = answer["suggestions"], !list.isEmpty else {
            let needed = Int(saturating: answer["executionsNeeded"]?.number ?? 0)
            return needed > 0 ? "no suggestions for \(id) yet: \(needed) more execution\(needed == 1 ? "" : "s") needed" : "no suggestions for \(id)"
        }
        return list.map { s in
            var line =
                "\(s["id"]?.text ?? "?")  [\(s["priority"]?.text ?? "")] confidence \(String(format: "%.2f", s["confidence"]?.number ?? 0)), impact \(String(format: "%.1f", s["expectedImpact"]?.number ?? 0))%"
            if s["safe"] == .bool(false) { line += ", review before applying" }
            if s["semanticChange"] == .bool(true) { line += " (changes what the workflow does)" }
            line += "\n  \(s["description"]?.text ?? "")"
            if case .array(let patch)? = s["patch"] {
                line +=
                    "\n  patch: "
                    + patch.filter { $0["op"] != "test" }.map {
                        "\($0["op"]?.text ?? "") \($0["path"]?.text ?? "")\($0["value"].map { " " + $0.jsonText } ?? "")"
                    }.joined(separator: "; ")
            }
            return line
        }.joined(separator: "\n\n")
    }
}

/// `novacron simulate FILE --runs N [--model M.yaml] [--max-parallel K]`.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a workflow many times on virtual time, through the real engine, with modelled step durations and failures.",
        discussion: """
            Each step's behaviour comes from --model (YAML: per step a duration — fixed, \
            {median, p95} log-normal or {min, max} — a failureRate, an error, a slowdown and \
            whether outputs depend only on inputs; see docs/learning.md), or, without one, from \
            what the learning engine learned from the workflow's executions in the store. Reports \
            makespan percentiles, the success rate, and what the learning engine would suggest. \
            Nothing runs for real and nothing is saved.
            """)

    @Argument(help: "A workflow file (YAML or JSON).") var file: String
    @Option(name: .long, help: "How many executions (default 1000).") var runs: Int = 1000
    @Option(name: .long, help: ArgumentHelp("A simulation model file; default: learned from the store.", valueName: "file")) var model: String?
    @Option(name: .long, help: "Run at most K steps of an execution at once.") var maxParallel: Int?
    @Option(name: .long, help: "Executions running at once (default 1).") var concurrency: Int = 1
    @Option(name: .long, help: "Seeds the draws; the same seed gives the same simulation (default 1).") var seed: UInt64 = 1
    @Flag(name: .long, help: "Let the learning engine apply its safe suggestions as the runs go (and revert what does worse).") var autoOptimize =
        false
    @Option(name: .long, help: "The confidence auto-optimization needs (default 0.8).") var minConfidence: Double = 0.8
    @Option(name: .shortAndLong, help: "text or json.") var output: OutputFormat = .text
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() async throws {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(contentsOf: file).workflow } catch {
            Console.report(error.errors)
            throw ExitStatus.invalidInput
        }
        let behaviour: SimulationModel
        if let model {
            do {
                behaviour = try SimulationModel.parse(String(contentsOfFile: model, encoding: .utf8), file: model)
            } catch let error as SimulationModel.Invalid {
                Console.err("error: \(error.description)")
                throw ExitStatus.invalidInput
            } catch {
                Console.err("error: cannot read \(model): \(error.localizedDescription)")
                throw ExitStatus.invalidInput
            }
        } else {
            let store = try await storeOptions.openExisting()
            guard let statistics = await LearningEngine(store: store).statistics(workflowID: workflow.id), statistics.executions > 0 else {
                Console.err("error: no executions of \(workflow.id) in \(storeOptions.location) to learn a model from; give --model FILE")
                throw ExitStatus.invalidInput
            }
            behaviour = SimulationModel.learned(from: statistics)
        }
        let report: SimulationReport
        do {
            let optimization = OptimizationConfig(enableAutoOptimization: autoOptimize, minConfidence: minConfidence)
            report = try await Simulator(
                workflow: workflow, model: behaviour, maxParallelism: maxParallel, seed: seed, optimization: optimization, concurrency: concurrency
            ).run(runs: runs)
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        if output == .json { return Console.out(try JSONValue(encoding: report).jsonText) }
        var text =
            "\(report.runs) runs of \(workflow.id) in \(String(format: "%.2f", report.wallSeconds)) s (\(Int(saturating: report.runsPerSecond)) runs/s), \(report.succeeded) succeeded (\(String(format: "%.1f", report.successRate * 100))%)\n"
        let m = report.makespan
        text +=
            "makespan: mean \(LearningText.seconds(.number(m.mean))), p50 \(LearningText.seconds(.number(m.p50))), p90 \(LearningText.seconds(.number(m.p90))), p99 \(LearningText.seconds(.number(m.p99))), max \(LearningText.seconds(.number(m.max)))\n\n"
        if autoOptimize {
            text +=
                "success rate by quarter of the runs: "
                + report.successRateByQuarter.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: ", ") + "\n"
            text +=
                report.optimizations.isEmpty
                ? "auto-optimization applied nothing\n"
                : "auto-optimization:\n"
                    + report.optimizations.map { "  \($0.action.rawValue) \($0.suggestionID): \($0.reason)" }.joined(separator: "\n") + "\n"
            text += "\nwhat is still suggested:\n"
        }
        text += LearningText.suggestions(["workflowID": .string(workflow.id), "suggestions": .array(report.suggestions.map(\.json))])
        Console.out(text)
    }
}
