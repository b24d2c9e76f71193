import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Execution state machine")
struct ExecutionStateMachineTests {
    @Test("roots start at once; a step starts when its upstreams succeeded")
    func readiness() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, inputs: {command: x}}
              - {id: c, dependencies: [a, b], inputs: {command: x}}
            """)
        let first = m.start(now: t0)
        #expect(first.started(m).sorted() == ["a", "b"])
        #expect(m.finish("a").started(m).isEmpty)
        let after = m.finish("b")
        #expect(after.started(m) == ["c"])
        #expect(m.finish("c").finish == .completed)
        #expect(m.status == .completed)
    }

    @Test("a failed upstream skips its downstreams with the reason, transitively")
    func skipReasons() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: build, inputs: {command: x}}
              - {id: test, dependencies: [build], inputs: {command: x}}
              - {id: ship, dependencies: [test], inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("build", .failure("exit code 2", exitCode: 2))
        #expect(actions.finish == .failed)
        #expect(m.result("test").status == .skipped)
        #expect(m.result("test").skipReason == "upstream build failed")
        #expect(m.result("ship").skipReason == "upstream test was skipped")
        #expect(m.error == "step build failed: exit code 2")
    }

    @Test("the guide's rollback pattern: a condition on an upstream's status runs after its failure")
    func conditionOnFailure() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: critical-step, inputs: {command: x}}
              - id: alert
                condition: "${critical-step.status} == 'failed'"
                inputs: {command: x}
              - id: celebrate
                condition: "${critical-step.success}"
                inputs: {command: x}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("critical-step", .failure("boom"))
        #expect(actions.started(m) == ["alert"])
        #expect(m.result("celebrate").status == .skipped)
        #expect(m.result("celebrate").skipReason == "condition is false: ${critical-step.success}")
        #expect(m.finish("alert").finish == .failed)
    }

    @Test("a condition reading an output needs success; a false one skips, an error fails the step")
    func conditionOnOutput() throws {
        var m = try machine(
            """
            name: w
            variables: {env: prod}
            steps:
              - {id: probe, inputs: {command: x}}
              - {id: big, condition: "${probe.count} > 10 && ${env} == 'prod'", inputs: {command: x}}
              - {id: small, condition: "${probe.count} <= 10", inputs: {command: x}}
              - {id: broken, condition: "${probe.count} > [1]", inputs: {command: x}, continueOnFailure: true}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("probe", .success(outputs: ["count": "42"]))
        #expect(actions.started(m) == ["big"])
        #expect(m.result("small").status == .skipped)
        #expect(m.result("broken").status == .failed)
        #expect(m.result("broken").error?.hasPrefix("condition:") == true)
        #expect(m.finish("big").finish == .completed)
    }

    @Test("continueOnFailure keeps the execution completed, its dependents still skip")
    func continueOnFailure() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: lint, continueOnFailure: true, inputs: {command: x}}
              - {id: after-lint, dependencies: [lint], inputs: {command: x}}
              - {id: build, inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        _ = m.finish("lint", .failure("style"))
        #expect(m.result("after-lint").status == .skipped)
        #expect(m.finish("build").finish == .completed)
    }

    @Test("failFast cancels running steps and what has not started")
    func failFast() throws {
        var m = try machine(
            """
            name: w
            failFast: true
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, inputs: {command: x}}
              - {id: c, dependencies: [b], inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("a", .failure("boom"))
        #expect(actions.cancelled == [m.index("b")])
        #expect(m.result("c").status == .cancelled)
        #expect(m.status == .running)
        let end = m.finish("b", StepOutcome.cancelled())
        #expect(end.finish == .failed)
        #expect(m.result("b").status == .cancelled)
        #expect(m.error == "failFast: step a failed")
    }

    @Test("without failFast, independent branches go on after a failure")
    func noFailFast() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, inputs: {command: x}}
              - {id: c, dependencies: [b], inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        _ = m.finish("a", .failure("boom"))
        #expect(m.finish("b").started(m) == ["c"])
        #expect(m.finish("c").finish == .failed)
    }

    @Test("maxParallelism bounds running steps; the longest remaining path goes first")
    func parallelismAndPriority() throws {
        var m = try machine(
            """
            name: w
            maxParallelism: 2
            steps:
              - {id: short, inputs: {command: x}, estimatedDuration: 1s}
              - {id: long, inputs: {command: x}, estimatedDuration: 1s}
              - {id: long-tail, dependencies: [long], inputs: {command: x}, estimatedDuration: 10m}
              - {id: medium, inputs: {command: x}, estimatedDuration: 30s}
            """)
        let first = m.start(now: t0)
        #expect(first.started(m) == ["long", "medium"])
        let next = m.finish("medium")
        #expect(next.started(m) == ["short"])
        #expect(m.finish("long").started(m) == ["long-tail"])
    }

    @Test("an exclusive step runs alone and holds back everything else")
    func exclusive() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}, estimatedDuration: 1m}
              - {id: migrate, parallel: false, inputs: {command: x}, estimatedDuration: 30s}
              - {id: b, inputs: {command: x}, estimatedDuration: 1s}
            """)
        let first = m.start(now: t0)
        #expect(first.started(m) == ["a"])
        // migrate is next by priority: it waits for a, and b waits behind it.
        let afterA = m.finish("a")
        #expect(afterA.started(m) == ["migrate"])
        let afterMigrate = m.finish("migrate")
        #expect(afterMigrate.started(m) == ["b"])
    }

    @Test("rollbacks of succeeded steps run one by one in reverse completion order")
    func rollbackOrder() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: provision, inputs: {command: x}, rollback: {type: task, inputs: {command: "undo ${provision.host}"}}}
              - {id: configure, dependencies: [provision], inputs: {command: x}, rollback: {type: task, inputs: {command: y}}}
              - {id: no-rollback, dependencies: [provision], inputs: {command: x}}
              - {id: migrate, dependencies: [configure], inputs: {command: x}, rollback: {type: task, inputs: {command: z}}}
            """)
        _ = m.start(now: t0)
        _ = m.finish("provision", .success(outputs: ["host": "db1"]))
        _ = m.finish("configure")
        _ = m.finish("no-rollback")
        var actions = m.finish("migrate", .failure("boom"))
        #expect(actions.rollbacks.map(\.stepID) == ["configure.rollback"])
        #expect(actions.finish == nil)
        actions = m.rollbackAttemptFinished(step: m.index("configure"), outcome: .success(), now: t0)
        #expect(actions.rollbacks.map(\.stepID) == ["provision.rollback"])
        #expect(actions.rollbacks.first?.environment["NOVACRON_REF_0"] == "db1")
        actions = m.rollbackAttemptFinished(step: m.index("provision"), outcome: .failure("undo failed"), now: t0)
        #expect(actions.finish == .failed)
        let snapshot = m.snapshot()
        #expect(snapshot.stepResults["configure.rollback"]?.status == .success)
        #expect(snapshot.stepResults["provision.rollback"]?.status == .failed)
        #expect(snapshot.stepResults["migrate.rollback"] == nil)
    }

    @Test("cancel stops running steps, cancels the rest, rolls back, ends cancelled")
    func cancel() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}, rollback: {type: task, inputs: {command: undo}}}
              - {id: b, dependencies: [a], inputs: {command: x}}
              - {id: c, dependencies: [b], inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        _ = m.finish("a")
        var actions = m.cancel(reason: "cancelled by user", now: t0)
        #expect(actions.cancelled == [m.index("b")])
        #expect(m.result("c").status == .cancelled)
        actions = m.finish("b", StepOutcome.cancelled())
        #expect(actions.rollbacks.map(\.stepID) == ["a.rollback"])
        actions = m.rollbackAttemptFinished(step: m.index("a"), outcome: .success(), now: t0)
        #expect(actions.finish == .cancelled)
        #expect(m.error == "cancelled by user")
    }

    @Test("a step stopped from outside (engine shutting down) keeps the execution from completing")
    func cancelledFromOutside() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("a", StepOutcome.cancelled())
        #expect(actions.finish == .failed)
        #expect(m.result("a").status == .cancelled)
    }

    @Test("pause stops new starts, resume continues; debug pauses before every step")
    func pauseAndDebug() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, dependencies: [a], inputs: {command: x}}
            """)
        _ = m.start(now: t0)
        _ = m.pause()
        #expect(m.status == .paused)
        #expect(m.finish("a").started(m).isEmpty)
        #expect(m.resume(now: t0).started(m) == ["b"])

        var d = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, dependencies: [a], inputs: {command: x}}
            """, debug: true)
        let first = d.start(now: t0)
        #expect(first.started(d).isEmpty)
        #expect(d.status == .paused)
        #expect(d.resume(now: t0).started(d) == ["a"])
        #expect(d.finish("a").started(d).isEmpty)
        #expect(d.status == .paused)
        #expect(d.resume(now: t0).started(d) == ["b"])
        #expect(d.finish("b").finish == .completed)
    }

    @Test("reused results are not run again and feed their dependents")
    func reuse() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: build, inputs: {command: x}}
              - {id: deploy, dependencies: [build], inputs: {command: "deploy ${build.image}"}}
            """, reuse: ["build": StepResult(stepID: "build", status: .success, outputs: ["image": "app:1"], attempts: 1)])
        let actions = m.start(now: t0)
        #expect(actions.started(m) == ["deploy"])
        #expect(actions.requests.first?.environment["NOVACRON_REF_0"] == "app:1")
    }

    @Test("a reference to a missing output fails the step with a message naming it")
    func missingOutput() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: build, inputs: {command: x}}
              - {id: deploy, inputs: {command: "deploy ${build.image}"}}
            """)
        _ = m.start(now: t0)
        let actions = m.finish("build", .success(outputs: ["tag": "1"]))
        #expect(actions.finish == .failed)
        #expect(m.result("deploy").error == "${build.image}: step build has no output 'image' (its outputs are tag)")
    }

    @Test("requests carry the idempotency key, inputs as INPUT_ variables and the action applied")
    func requests() throws {
        var m = try machine(
            """
            name: w
            variables: {registry: ghcr.io/acme}
            steps:
              - id: build
                type: container
                action: docker-build
                inputs: {image: "${registry}/app", tag: "v1"}
            """)
        let request = try #require(m.start(now: t0).requests.first)
        #expect(request.idempotencyKey == "e1/build")
        #expect(request.processEnvironment["NOVACRON_IDEMPOTENCY_KEY"] == "e1/build")
        #expect(request.processEnvironment["INPUT_IMAGE"] == "ghcr.io/acme/app")
        #expect(request.inputs["args"] == ["build", "-t", "ghcr.io/acme/app:v1", "-f", "Dockerfile", "."])
        #expect(request.actionOutputs["image"] == "ghcr.io/acme/app:v1")
    }

    @Test("metrics: counts, retries, critical path and the parallel speedup obtained")
    func metrics() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {command: x}}
              - {id: b, inputs: {command: x}}
              - {id: c, inputs: {command: x}}
              - {id: d, dependencies: [a], inputs: {command: x}, condition: "false"}
            """)
        _ = m.start(now: t0)
        _ = m.finish("a", at: 3)
        _ = m.finish("b", at: 3)
        _ = m.finish("c", at: 3)
        let metrics = m.metrics()
        #expect(metrics.stepCount == 4)
        #expect(metrics.successfulSteps == 3)
        #expect(metrics.skippedSteps == 1)
        #expect(metrics.totalDuration == .seconds(3))
        #expect(metrics.criticalPathDuration == .seconds(3))
        #expect(metrics.optimizationGains == 3)
    }

    @Test("a 100,000-step chain of skips does not recurse", .ownThread)
    func longSkipChain() throws {
        var steps = [WorkflowStep(id: "s0", action: "noop")]
        for i in 1..<100_000 { steps.append(WorkflowStep(id: "s\(i)", action: "noop", dependencies: ["s\(i - 1)"])) }
        var m = try machine(Workflow(name: "chain", steps: steps))
        _ = m.start(now: t0)
        let actions = m.finish("s0", .failure("boom"))
        #expect(actions.finish == .failed)
        #expect(m.result("s99999").skipReason == "upstream s99998 was skipped")
    }
}
