import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// Loading workflows and exporting them, for the exporter tests.
enum ExportSupport {
    static func graph(_ yaml: String) throws -> WorkflowGraph {
        try WorkflowLoader.load(source: yaml, file: "test.yaml").graph
    }

    static func graph(file: String) throws -> WorkflowGraph {
        try WorkflowLoader.load(contentsOf: Repository.path(file)).graph
    }

    /// Writes `text` to a new temporary file and returns its path.
    static func temporary(_ text: String, extension ext: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-export-\(UUID().uuidString).\(ext)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Checks `asl` with statelint, runs it in moto's Step Functions (with child state machines
    /// by name and answers to task tokens by step: `success:JSON` or `failure:ERROR`) and returns
    /// the run: status, error, output, entered, failures.
    static func runInMoto(
        _ asl: String, input: String = "{}", functions: [String] = [], machines: [String: String] = [:], answers: [String: String] = [:]
    ) async throws -> JSONValue {
        var files: [String] = []
        defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        var arguments = ["python3", Repository.path("Tests/Fixtures/cloud/run_state_machine.py")]
        for (name, text) in [("exported", asl)] + machines.sorted(by: { $0.key < $1.key }) {
            let file = try temporary(text, extension: "json")
            files.append(file)
            let lint = try await ExternalTool.run(["python3", "-m", "statelint", file])
            try #require(lint.status == 0, "statelint (\(name)): \(lint.output)\n\(text)")
            if name != "exported" { arguments += ["--machine", "\(name)=\(file)"] }
        }
        let out = try temporary("", extension: "result.json")
        files.append(out)
        arguments.insert(contentsOf: [files[0], input, functions.joined(separator: ","), out], at: 2)
        for (step, answer) in answers.sorted(by: { $0.key < $1.key }) { arguments += ["--answer", "\(step)=\(answer)"] }
        let moto = try await ExternalTool.run(arguments)
        try #require(moto.status == 0, "moto: \(moto.output.suffix(3000))")
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// Runs a GCP Workflows document in workflows-emulator and returns the run: status
    /// (SUCCEEDED or FAILED), result (what it returned) and error.
    static func runInGCPEmulator(_ yaml: String, input: String = "null") async throws -> JSONValue {
        let file = try temporary(yaml, extension: "yaml")
        let out = try temporary("", extension: "result.json")
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: out)
        }
        let run = try await ExternalTool.run(
            ["python3", Repository.path("Tests/Fixtures/cloud/run_gcp_workflow.py"), file, input, out],
            environment: ExternalTool.gcpEmulatorEnvironment)
        try #require(run.status == 0, "workflows-emulator: \(run.output.suffix(3000))")
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// The state `name` of a state machine, at any depth of Parallel branches and Maps.
    static func state(named name: String, in machine: JSONValue) -> JSONValue? {
        guard case .object(let states)? = machine["States"] else { return nil }
        if let found = states[name] { return found }
        for inner in states.values {
            if case .array(let branches)? = inner["Branches"] {
                for branch in branches { if let found = state(named: name, in: branch) { return found } }
            }
            if let processor = inner["ItemProcessor"] ?? inner["Iterator"], let found = state(named: name, in: processor) { return found }
        }
        return nil
    }

    /// The problems an export fails with, as text.
    static func problems(_ graph: WorkflowGraph, _ target: CloudTarget, options: ExportOptions = ExportOptions()) -> [String] {
        do {
            _ = try WorkflowExporter.export(graph, to: target, options: options)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }
}
