import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Sub-workflows: workflow steps run child executions")
struct SubWorkflowTests {
    static let child = """
        name: build-image
        variables: {service: api}
        outputs: {image: "registry/${service}:${push.tag}"}
        steps:
          - {id: push, inputs: {command: "push ${service}"}}
        """
    static let parent = """
        name: release
        steps:
          - {id: build, type: workflow, workflow: build-image, inputs: {service: payments}, retryPolicy: {maxAttempts: 2, jitter: none, initialDelay: 1s}}
          - {id: deploy, inputs: {command: "deploy ${build.image}"}}
        """

    @Test("the child runs with the step's inputs; its outputs are the step's; parent and child are linked both ways")
    func outputsAndLinks() async throws {
        let executor = ScriptedExecutor()
        executor.script("push", [.success(outputs: ["tag": "7"])])
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.child))
            try await engine.registerWorkflow(try workflowDocument(Self.parent))
            let run = try await engine.executeWorkflow("release")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            let build = try #require(final.stepResults["build"])
            let childID = try #require(build.childExecutionID)
            #expect(build.outputs["image"] == "registry/payments:7")
            #expect(build.outputs["executionID"] == .string(childID))
            #expect(executor.requests.first { $0.stepID == "deploy" }?.environment.values.contains("registry/payments:7") == true)
            let child = try await engine.waitForExecution(childID)
            #expect(child.workflowID == "build-image")
            #expect(child.parent == ParentLink(executionID: run.id, stepID: "build", depth: 1))
            #expect(child.outputs == ["image": "registry/payments:7"])
            #expect(child.inputs["service"] == "payments")
        }
    }

    @Test("a child pinned to an older saved version runs that version; a pin no saved version starts fails the step, saying so")
    func pinnedOlderVersion() async throws {
        let executor = ScriptedExecutor()
        executor.script("push", [.success(outputs: ["tag": "1"]), .failure("registry down"), .success(outputs: ["tag": "3"])])
        let store = InMemoryStore()
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.child))
            let old = try #require(try await store.workflowVersions(id: "build-image").first?.version)
            try await engine.registerWorkflow(try workflowDocument(Self.child.replacingOccurrences(of: "registry/", with: "mirror/")))
            #expect(try await store.registeredVersions()["build-image"] != old)
            func release(pin: String) throws -> WorkflowDocument {
                // Without the retry policy: a refused pin fails the step at once.
                try workflowDocument(
                    Self.parent.replacingOccurrences(of: "workflow: build-image,", with: "workflow: build-image, version: \"\(pin)\",")
                        .replacingOccurrences(of: ", retryPolicy: {maxAttempts: 2, jitter: none, initialDelay: 1s}", with: ""))
            }
            try await engine.registerWorkflow(try release(pin: String(old.prefix(12))))
            let pinned = try await engine.waitForExecution(try await engine.executeWorkflow("release").id)
            #expect(pinned.status == .completed, "\(pinned.error ?? "")")
            #expect(pinned.stepResults["build"]?.outputs["image"] == "registry/payments:1", "the old version's outputs")
            let childID = try #require(pinned.stepResults["build"]?.childExecutionID)
            #expect(
                try await store.execution(id: childID)?.workflowHash == old, "the child is saved as the pinned version, so recovery carries it on")

            // A failed pinned child, retried by hand, runs its own version again.
            let failed = try await engine.waitForExecution(try await engine.executeWorkflow("release").id)
            #expect(failed.status == .failed)
            let failedChild = try #require(failed.stepResults["build"]?.childExecutionID)
            let retried = try await engine.waitForExecution(try await engine.retryExecution(failedChild).id)
            #expect(retried.outputs == ["image": "registry/payments:3"], "the pinned version, not the registered one")
            #expect(try await store.execution(id: retried.id)?.workflowHash == old)

            try await engine.registerWorkflow(try release(pin: "abcdef123456"))
            let unknown = try await engine.waitForExecution(try await engine.executeWorkflow("release").id)
            #expect(unknown.status == .failed)
            #expect(
                unknown.stepResults["build"]?.error?.contains(
                    "pins workflow build-image to version abcdef123456, which is not in the store (novacron workflows versions build-image lists those that are)"
                )
                    == true, "\(unknown.stepResults["build"]?.error ?? "")")
        }
    }

    @Test("a failed child fails the step; the step's retry starts a new child")
    func retryStartsANewChild() async throws {
        let executor = ScriptedExecutor()
        executor.script("push", [.failure("registry down"), .success(outputs: ["tag": "8"])])
        let clock = ManualClock()
        try await withScriptedEngine(executor, clock: clock, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.child))
            try await engine.registerWorkflow(try workflowDocument(Self.parent))
            let run = try await engine.executeWorkflow("release")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(final.stepResults["build"]?.attempts == 2)
            let children = await engine.listExecutions(workflowID: "build-image")
            #expect(children.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.completed, .failed])
            #expect(children.first { $0.status == .failed }?.error == "step push failed: registry down")
        }
    }

    @Test("cancelling the parent cancels the child; pausing and resuming it pause and resume the child")
    func cancelAndPauseReachTheChild() async throws {
        let executor = ScriptedExecutor()
        executor.hold("push")
        let twoSteps = Self.child.replacingOccurrences(
            of: "  - {id: push, inputs: {command: \"push ${service}\"}}",
            with: "  - {id: push, inputs: {command: \"push ${service}\"}}\n  - {id: sign, dependencies: [push], inputs: {command: sign}}")
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(twoSteps.replacingOccurrences(of: "${push.tag}", with: "1")))
            try await engine.registerWorkflow(try workflowDocument(Self.parent))
            let run = try await engine.executeWorkflow("release")
            await executor.waitForStarts(1)
            let childID = try #require(try await engine.getExecution(run.id).stepResults["build"]?.childExecutionID)
            try await engine.pauseExecution(run.id)
            #expect(try await engine.getExecution(childID).status == .paused)
            try await engine.resumeExecution(run.id)
            #expect(try await engine.getExecution(childID).status == .running)
            try await engine.cancelExecution(run.id, reason: "by hand")
            let child = try await engine.waitForExecution(childID)
            #expect(child.status == .cancelled)
            #expect(child.error == "its parent step build was stopped")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .cancelled)
            #expect(!executor.started.contains("sign"))
        }
    }

    @Test("a cycle through children is refused when the workflow closing it is registered")
    func cycles() async throws {
        try await withScriptedEngine(ScriptedExecutor()) { engine in
            try await engine.registerWorkflow(try workflowDocument("name: a\nsteps:\n  - {id: s, workflow: b}\n"))
            try await engine.registerWorkflow(try workflowDocument("name: b\nsteps:\n  - {id: s, workflow: c}\n"))
            await #expect {
                try await engine.registerWorkflow(try workflowDocument("name: c\nsteps:\n  - {id: s, workflow: a}\n"))
            } throws: { error in
                "\(error)" == "workflow cycle: c → a → b → c; a workflow cannot start itself through its children"
            }
        }
    }

    @Test("nesting deeper than 8 fails the step that would start the ninth level")
    func depthLimit() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument("name: w9\nsteps:\n  - {id: s, inputs: {command: x}}\n"))
            for n in stride(from: 8, through: 0, by: -1) {
                try await engine.registerWorkflow(try workflowDocument("name: w\(n)\nsteps:\n  - {id: s, workflow: w\(n + 1)}\n"))
            }
            let run = try await engine.executeWorkflow("w0")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .failed)
            // w0 starts w1 (depth 1) … w7 starts w8 (depth 8); w8's step would start w9 at depth 9.
            let deepest = await engine.listExecutions(workflowID: "w8", limit: 5)
            #expect(deepest.first?.error?.contains("workflow w9 would be nested 9 deep, more than the limit of 8") == true, "\(deepest)")
        }
    }

    @Test("a child whose outputs cannot be given fails, and so does its step")
    func missingOutput() async throws {
        let executor = ScriptedExecutor()
        executor.script("push", [.success(outputs: [:])])
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.child))
            try await engine.registerWorkflow(try workflowDocument(Self.parent.replacingOccurrences(of: "maxAttempts: 2", with: "maxAttempts: 1")))
            let run = try await engine.executeWorkflow("release")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .failed)
            let child = try #require(await engine.listExecutions(workflowID: "build-image").first)
            #expect(child.status == .failed)
            #expect(child.error?.hasPrefix("outputs: image: ${push.tag}: step push has no output 'tag'") == true, "\(child.error ?? "")")
            #expect(final.stepResults["build"]?.error?.contains("child execution \(child.id) failed: outputs: image:") == true)
        }
    }

    @Test("a forEach workflow step starts a child per item")
    func childPerItem() async throws {
        let executor = ScriptedExecutor()
        executor.script("push", [.success(outputs: ["tag": "1"])])
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.child))
            try await engine.registerWorkflow(
                try workflowDocument(
                    "name: many\nsteps:\n  - {id: build, workflow: build-image, forEach: [a, b, c], inputs: {service: \"${item}\"}}\n"))
            let run = try await engine.executeWorkflow("many")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            #expect(
                final.stepResults["build"]?.outputs["results"].map { JSONValue.descend($0, [.index(2), .key("image")]) } == "registry/c:1")
            let children = await engine.listExecutions(workflowID: "build-image")
            #expect(Set(children.compactMap(\.parent?.stepID)) == ["build[0]", "build[1]", "build[2]"])
        }
    }

    @Test("the cycle check also sees workflows another process registered in the store")
    func cyclesThroughTheStore() async throws {
        let store = InMemoryStore()
        try await withScriptedEngine(ScriptedExecutor(), store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument("name: a\nsteps:\n  - {id: s, workflow: b}\n"))
        }
        try await withScriptedEngine(ScriptedExecutor(), store: store) { engine in
            await #expect {
                try await engine.registerWorkflow(try workflowDocument("name: b\nsteps:\n  - {id: s, workflow: a}\n"))
            } throws: { error in
                "\(error)" == "workflow cycle: b → a → b; a workflow cannot start itself through its children"
            }
        }
    }
}
