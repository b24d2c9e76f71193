import Foundation
import Orchestration
import OrchestrationSQLite
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A step whose process outlives the engine that started it, as after a SIGKILL: it starts
/// `sleep 60` in a group of its own, reports the group, and never ends it.
final class LeavesProcessExecutor: StepExecutor {
    let started = Mutex<Process?>(nil)

    func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["60"]
        do { try p.run() } catch { return .failure("cannot start sleep: \(error)") }
        if let handle = ProcessHandle.ofGroupLeader(p.processIdentifier) { context.processStarted(handle) }
        started.withLock { $0 = p }
        // Cancelled when the engine goes away; the process is left behind on purpose.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return StepOutcome.cancelled()
    }
}

@Suite("Recovery stops what an interrupted attempt left running")
struct LeftoverProcessTests {
    @Test("the interrupted attempt's process group is recorded with it, and recovery kills it before the step runs again")
    func recoveryStopsLeftovers() async throws {
        let path = temporaryDatabasePath()
        let sqlite = try SQLiteStore(path: path)
        let leaver = LeavesProcessExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(leaver, for: type) }
        let workflow = try WorkflowLoader.load(source: "name: leaver\nsteps:\n  - {id: a, inputs: {command: x}}\n", file: "leaver.yaml").workflow
        let crashable = CrashableStore(sqlite)
        let id = try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), store: crashable) { engine in
            try await engine.registerWorkflow(workflow)
            let started = try await engine.executeWorkflow("leaver")
            // The group is saved with the attempt (group commit: a few milliseconds).
            while try await sqlite.attempts(executionID: started.id, stepID: "a").first?.process == nil { await Task.yield() }
            crashable.crash()
            return started.id
        }
        let process = try #require(leaver.started.withLock { $0 })
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let recorded = try #require(try await sqlite.attempts(executionID: id, stepID: "a").first?.process)
        #expect(recorded.processGroup == process.processIdentifier && recorded.host == ProcessHandle.hostName)
        // The engine died with the attempt unfinished: the sleep still runs.
        #expect(process.isRunning)

        let second = ScriptedExecutor()
        second.script("a", [.success(outputs: [:])])
        try await withScriptedEngine(second, clock: ManualClock(), store: sqlite) { engine in
            #expect(try await engine.recover().map(\.id) == [id])
            _ = try await engine.waitForExecution(id)
        }
        await process.exited()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(second.requests.first?.attempt == 2)
    }

    @Test("an execution another live process runs is left to it: not carried on, its steps not stopped")
    func liveOwnerKeepsIt() async throws {
        let path = temporaryDatabasePath()
        let sqlite = try SQLiteStore(path: path)
        let leaver = LeavesProcessExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(leaver, for: type) }
        let workflow = try WorkflowLoader.load(source: "name: owned\nsteps:\n  - {id: a, inputs: {command: x}}\n", file: "owned.yaml").workflow
        let crashable = CrashableStore(sqlite)
        let id = try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), store: crashable) { engine in
            try await engine.registerWorkflow(workflow)
            let started = try await engine.executeWorkflow("owned")
            while try await sqlite.attempts(executionID: started.id, stepID: "a").first?.process == nil { await Task.yield() }
            crashable.crash()
            return started.id
        }
        let process = try #require(leaver.started.withLock { $0 })
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // As if a `novacron run` (the sleep stands in for it) still ran the execution.
        var record = try #require(try await sqlite.execution(id: id))
        record.owner = "\(ProcessInfo.processInfo.hostName):\(process.processIdentifier)"
        try await sqlite.updateExecution(record)
        let second = ScriptedExecutor()
        let carried = try await withScriptedEngine(second, clock: ManualClock(), store: sqlite) { engine in
            try await engine.recover()
        }
        #expect(carried.isEmpty)
        #expect(process.isRunning)
        #expect(second.started.isEmpty)
    }
}
