import Foundation
import Orchestration
import OrchestrationExecutors
import Subprocess
import SystemPackage

/// Shell steps through the engine against bare spawns of the same programs.
enum ShellBenchmark {
    static func run(_ arguments: [String]) async throws {
        let n = option("steps", in: arguments).flatMap(Int.init) ?? 200
        // Bare: spawn and wait, one after another, with the same library the executor uses.
        let bareExec = try await bare(n, "/bin/true", [])
        let bareShell = try await bare(n, "/bin/sh", ["-c", "true"])
        let engineExec = try await engine(n, WorkflowStep(id: "x", inputs: ["args": ["/bin/true"]]))
        let engineShell = try await engine(n, WorkflowStep(id: "x", inputs: ["command": "true"]))
        let object: [String: Any] = [
            "benchmark": "engine-shell", "steps": n,
            "bareExecMs": round(bareExec * 1000 * 1000) / 1000,
            "engineExecMs": round(engineExec * 1000 * 1000) / 1000,
            "execOverheadMs": round((engineExec - bareExec) * 1000 * 1000) / 1000,
            "bareShellMs": round(bareShell * 1000 * 1000) / 1000,
            "engineShellMs": round(engineShell * 1000 * 1000) / 1000,
            "shellOverheadMs": round((engineShell - bareShell) * 1000 * 1000) / 1000,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Seconds per spawn.
    static func bare(_ n: Int, _ path: String, _ args: [String]) async throws -> Double {
        let start = ContinuousClock.now
        for _ in 0..<n {
            let r = try await Subprocess.run(.path(FilePath(path)), arguments: Arguments(args), output: .discarded)
            guard r.terminationStatus.isSuccess else { throw BenchmarkError(message: "\(path) failed") }
        }
        return (ContinuousClock.now - start).seconds / Double(n)
    }

    /// Seconds per step of a chain of `n` copies of `template`.
    static func engine(_ n: Int, _ template: WorkflowStep) async throws -> Double {
        var steps: [WorkflowStep] = []
        for i in 0..<n {
            var s = template
            s.id = "s\(i)"
            s.dependencies = i == 0 ? [] : ["s\(i - 1)"]
            steps.append(s)
        }
        let workflow = Workflow(name: "bench-shell", steps: steps)
        return try await WorkflowEngine.withEngine(executors: .standard()) { engine in
            try await engine.registerWorkflow(workflow)
            let start = ContinuousClock.now
            let final = try await engine.waitForExecution(try await engine.executeWorkflow(workflow.id).id)
            guard final.status == .completed else { throw BenchmarkError(message: "shell chain \(final.status.rawValue): \(final.error ?? "")") }
            return (ContinuousClock.now - start).seconds / Double(n)
        }
    }
}
