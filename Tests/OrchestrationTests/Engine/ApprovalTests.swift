import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Approvals and signals")
struct ApprovalTests {
    static let gate = """
        name: deploy
        maxParallelism: 1
        steps:
          - {id: gate, type: approval, inputs: {message: "Deploy?"}}
          - {id: side, inputs: {command: lint}}
          - {id: ship, dependencies: [gate], inputs: {command: "ship by ${gate.approvedBy}: ${gate.comment} ${gate.data.ticket}"}}
        """

    func approval(_ kind: ExecutionSignal.Kind, step: String = "gate", by: String = "alice", _ payload: JSONValue = .object([:]), to id: String)
        -> ExecutionSignal
    {
        ExecutionSignal(executionID: id, kind: kind, name: step, payload: payload, sender: by, sentAt: t0)
    }

    @Test("an approval waits holding no slot; approving it records who, the comment and the data, read downstream")
    func approve() async throws {
        let executor = ScriptedExecutor()
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.gate))
            let run = try await engine.executeWorkflow("deploy")
            await executor.waitForStarts(1)
            #expect(executor.started == ["side"], "with one slot, side runs while gate waits")
            let waiting = try await engine.getExecution(run.id)
            #expect(waiting.stepResults["gate"]?.waitingFor == "approval")
            #expect(waiting.stepResults["gate"]?.status == .running)
            try await engine.send(approval(.approve, ["comment": "canary ok", "data": ["ticket": "CHG-42"]], to: run.id))
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(
                final.stepResults["gate"]?.outputs == ["approved": true, "approvedBy": "alice", "comment": "canary ok", "data": ["ticket": "CHG-42"]])
            #expect(final.stepResults["gate"]?.waitingFor == nil)
            #expect(executor.requests.last?.environment.values.contains("alice") == true)
        }
    }

    @Test("a rejection fails the step with who and why, and skips what depends on it")
    func reject() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.gate))
            let run = try await engine.executeWorkflow("deploy")
            try await engine.send(approval(.reject, by: "bob", ["comment": "not today"], to: run.id))
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .failed)
            #expect(final.stepResults["gate"]?.error == "rejected by bob: not today")
            #expect(final.stepResults["gate"]?.outputs["approved"] == false)
            #expect(final.stepResults["ship"]?.status == .skipped)
        }
    }

    @Test("a timeout fails an approval, or decides it as onTimeout says", arguments: [nil, "approve", "reject"])
    func timeout(onTimeout: String?) async throws {
        let clock = ManualClock()
        try await withScriptedEngine(ScriptedExecutor(), clock: clock, store: InMemoryStore()) { engine in
            let extra = onTimeout.map { ", onTimeout: \($0)" } ?? ""
            try await engine.registerWorkflow(
                try workflowDocument("name: t\nsteps:\n  - {id: gate, type: approval, timeout: 1h\(extra)}\n  - {id: after, dependencies: [gate]}\n"))
            let run = try await engine.executeWorkflow("t")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(3600))
            let final = try await engine.waitForExecution(run.id)
            let gate = try #require(final.stepResults["gate"])
            switch onTimeout {
            case "approve"?:
                #expect(final.status == .completed)
                #expect(gate.outputs["approvedBy"] == "timeout")
            case "reject"?:
                #expect(final.status == .failed)
                #expect(gate.error == "rejected: no decision within 1h")
            default:
                #expect(final.status == .failed)
                #expect(gate.timedOut)
                #expect(gate.error == "timed out after 1h waiting for a decision")
            }
        }
    }

    @Test("a signal sent before its step waits is kept: the step ends at once with the payload; one sent later ends it then")
    func signals() async throws {
        let executor = ScriptedExecutor()
        executor.hold("build")
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: ci
                    steps:
                      - {id: build, inputs: {command: make}}
                      - {id: early, type: wait, dependencies: [build], inputs: {signal: ci-finished}}
                      - {id: late, type: wait, dependencies: [early], inputs: {signal: "${early.payload.next}"}}
                      - {id: report, inputs: {command: "echo ${late.payload}"}}
                    """))
            let run = try await engine.executeWorkflow("ci")
            await executor.waitForStarts(1)
            try await engine.send(
                ExecutionSignal(executionID: run.id, kind: .signal, name: "ci-finished", payload: ["next": "deployed"], sender: "ci", sentAt: t0))
            executor.release("build")
            var now = try await engine.getExecution(run.id)
            for _ in 0..<100 where now.stepResults["late"]?.waitingFor == nil {
                now = try await engine.getExecution(run.id)
                await Task.yield()
            }
            #expect(now.stepResults["early"]?.outputs["payload"] == ["next": "deployed"])
            #expect(now.stepResults["late"]?.waitingFor == "signal:deployed")
            try await engine.send(ExecutionSignal(executionID: run.id, kind: .signal, name: "deployed", payload: 42, sender: "ci", sentAt: t0))
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(final.stepResults["late"]?.outputs == ["signal": "deployed", "payload": 42])
        }
    }

    @Test("cancelling an execution ends its waiting steps")
    func cancelWhileWaiting() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.gate))
            let run = try await engine.executeWorkflow("deploy")
            try await engine.cancelExecution(run.id, reason: "by hand")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .cancelled)
            #expect(final.stepResults["gate"]?.error == "stopped waiting: by hand")
            #expect(final.stepResults["gate"]?.waitingFor == nil, "a step that ended waits for nothing")
        }
    }

    @Test("wait until: a time from an input, on the engine's clock, holding no slot; a time passed ends at once; a bad time fails the step")
    func waitUntil() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor()
        try await withScriptedEngine(executor, clock: clock, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: release
                    maxParallelism: 1
                    steps:
                      - {id: hold, type: wait, inputs: {until: "${releaseAt}"}}
                      - {id: side, inputs: {command: lint}}
                      - {id: ship, dependencies: [hold], inputs: {command: ship}}
                    """))
            let start = Date()
            let later = start.addingTimeInterval(7200)
            let run = try await engine.executeWorkflow("release", inputs: ["releaseAt": .string(TimeText.format(later))])
            await executor.waitForStarts(1)
            #expect(executor.started == ["side"])
            #expect(try await engine.getExecution(run.id).stepResults["hold"]?.waitingFor?.hasPrefix("until:") == true)
            await clock.waitForSleepers(1)
            // The engine dates its clock from when it started, a moment before `start`.
            clock.advance(by: .seconds(7260))
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(final.stepResults["hold"]?.outputs["until"] == .string(TimeText.format(later)))

            let past = try await engine.executeWorkflow("release", inputs: ["releaseAt": "2020-01-01"])
            #expect(try await engine.waitForExecution(past.id).status == .completed)
            let bad = try await engine.executeWorkflow("release", inputs: ["releaseAt": "soon"])
            let failed = try await engine.waitForExecution(bad.id)
            #expect(failed.status == .failed)
            #expect(failed.stepResults["hold"]?.error == "until: 'soon' is not a time like 2026-12-24T18:00:00Z or 2026-12-24")
            let missing = try await engine.executeWorkflow("release", inputs: ["releaseAt": .null])
            #expect(
                try await engine.waitForExecution(missing.id).stepResults["hold"]?.error
                    == "until: '' is not a time like 2026-12-24T18:00:00Z or 2026-12-24", "a null time names the input, not a missing duration")
        }
    }

    @Test("a callback decides an approval once, as `callback`, with no API token; a bad body leaves it unused; a used or unknown token is not found")
    func callbackApproves() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.gate))
            let run = try await engine.executeWorkflow("deploy")
            do {
                _ = try await engine.mintCallback(executionID: run.id, stepID: "ship", by: "alice")
                Issue.record("a callback for a step that does not wait")
            } catch let error as EngineError {
                #expect(error.code == .conflict)
            }
            let (token, expires) = try await engine.mintCallback(executionID: run.id, stepID: "gate", by: "alice")
            #expect(token.hasPrefix("ncb_") && token.count == 47)
            #expect(expires.timeIntervalSinceNow > 6 * 86_400)
            for bad: JSONValue in [.null, ["decision": "maybe"], ["decision": "approve", "data": 3]] {
                await #expect(throws: EngineError.self) { try await engine.redeemCallback(token, payload: bad) }
            }
            let (id, step) = try await engine.redeemCallback(
                token, payload: ["decision": "approve", "comment": "CAB ok", "data": ["ticket": "CHG-1"]])
            #expect(id == run.id && step == "gate")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(final.stepResults["gate"]?.outputs["approvedBy"] == "callback (minted by alice)")
            #expect(final.stepResults["gate"]?.outputs["comment"] == "CAB ok")
            for used in [token, "ncb_" + String(repeating: "A", count: 43), "nonsense", ""] {
                do {
                    try await engine.redeemCallback(used, payload: ["decision": "approve"])
                    Issue.record("callback \(used) worked")
                } catch let error as EngineError {
                    #expect(error.code == .notFound && error.message == "no such callback, or it was used or has expired")
                }
            }
        }
    }

    @Test("a signal wait's callback delivers its body as the payload")
    func callbackSignals() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument("name: s\nsteps:\n  - {id: ci, type: wait, inputs: {signal: ci-finished}}\n"))
            let run = try await engine.executeWorkflow("s")
            let (token, _) = try await engine.mintCallback(executionID: run.id, stepID: "ci", by: "alice")
            try await engine.redeemCallback(token, payload: ["build": 7])
            let final = try await engine.waitForExecution(run.id)
            #expect(final.stepResults["ci"]?.outputs["payload"] == ["build": 7])
        }
    }

    @Test("a callback for a step that no longer waits is refused and stays unused")
    func lateCallback() async throws {
        let store = InMemoryStore()
        try await withScriptedEngine(ScriptedExecutor(), store: store) { engine in
            try await engine.registerWorkflow(
                try workflowDocument("name: two\nsteps:\n  - {id: first, type: approval}\n  - {id: second, type: approval, dependencies: [first]}\n"))
            let run = try await engine.executeWorkflow("two")
            let (token, _) = try await engine.mintCallback(executionID: run.id, stepID: "first", by: "alice")
            try await engine.send(approval(.approve, step: "first", to: run.id))
            do {
                try await engine.redeemCallback(token, payload: ["decision": "reject"])
                Issue.record("a late callback was taken")
            } catch let error as EngineError {
                #expect(error.code == .conflict && error.message == "step first of execution \(run.id) no longer waits for a decision")
            }
            #expect(try await store.callback(digest: CallbackToken.digest(of: token))?.usedAt == nil)
            try await engine.cancelExecution(run.id)
        }
    }
}
