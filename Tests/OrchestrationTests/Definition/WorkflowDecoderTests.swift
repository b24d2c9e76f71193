import Orchestration
import TestSupport
import Testing

@Suite("Decoding workflow files")
struct WorkflowDecoderTests {
    func load(_ text: String, file: String = "wf.yaml") throws(DefinitionErrors) -> WorkflowDocument {
        try WorkflowLoader.load(source: text, file: file)
    }

    func problems(_ text: String, file: String = "wf.yaml") -> [String] {
        do {
            _ = try load(text, file: file)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("every field of the format lands in the model")
    func fullStep() throws {
        let doc = try load(
            """
            name: Deploy Application
            version: 3
            timeout: 1h
            maxParallelism: 4
            failFast: true
            variables: {registry: ghcr.io/acme, replicas: 3}
            retryPolicy: {maxAttempts: 2}
            steps:
              - id: build
                type: function
                action: noop
                inputs: {tag: latest, _cache_enabled: true, _cache_ttl: 600}
                timeout: 10m
                estimatedDuration: 90s
                idempotent: true
                outputs: [image]
              - id: deploy
                dependencies: build
                condition: ${build.status} == 'success'
                parallel: false
                continueOnFailure: true
                cache: {ttl: 2h}
                retryPolicy: {maxAttempts: 3, backoffStrategy: linear, initialDelay: 10s, maxDelay: 1m, multiplier: 1.5, jitter: none, retryOn: timeout}
                rollback: {type: task, inputs: {command: undo}, timeout: 1m}
                timeout: 5m
            triggers:
              - {type: schedule, conditions: {schedule: "0 2 * * *"}}
              - {id: push, type: webhook, source: github, secret: "${secrets.HOOK}", conditions: {branch: main}, enabled: false}
            """)
        let w = doc.workflow
        #expect(w.id == "deploy-application")
        #expect(w.version == "3")
        #expect(w.timeout == .seconds(3600))
        #expect(w.maxParallelism == 4 && w.failFast)
        #expect(w.variables["replicas"] == 3)
        #expect(w.retryPolicy?.maxAttempts == 2)
        let build = try #require(w.step("build"))
        #expect(build.type == .lambda && build.action == "noop" && build.idempotent)
        #expect(build.effectiveCache == CachePolicy(ttl: .seconds(600)))
        #expect(build.estimatedDuration == .seconds(90) && build.outputs == ["image"])
        let deploy = try #require(w.step("deploy"))
        #expect(deploy.dependencies == ["build"])
        #expect(!deploy.parallel && deploy.continueOnFailure)
        #expect(deploy.cache == CachePolicy(enabled: true, ttl: .seconds(7200)))
        #expect(
            deploy.retryPolicy
                == RetryPolicy(
                    maxAttempts: 3, backoffStrategy: .linear, initialDelay: .seconds(10),
                    maxDelay: .seconds(60), multiplier: 1.5, jitter: .none, retryOn: [.timeout]))
        #expect(deploy.rollback == StepBody(type: .task, inputs: ["command": "undo"], timeout: .seconds(60)))
        #expect(w.triggers.map(\.id) == ["schedule-1", "push"])
        #expect(w.triggers[0].effectiveSchedule == "0 2 * * *")
        #expect(w.triggers[1].enabled == false && w.triggers[1].source == "github")
        #expect(doc.graph.statusReads[1] == [0])
    }

    @Test("JSON files decode the same, with line and column")
    func json() throws {
        let doc = try load(
            #"{"name": "j", "steps": [{"id": "a", "timeout": "5s", "inputs": {"n": 1.5, "ok": true, "none": null}}]}"#, file: "wf.json")
        #expect(doc.workflow.steps[0].inputs == ["n": 1.5, "ok": true, "none": .null])
        #expect(
            problems(#"{"name": "j", "steps": [{"id": "a", "timout": "5s"}]}"#, file: "wf.json")
                == [#"wf.json:1:37: error: steps[0].timout: unknown field 'timout' in a step; did you mean 'timeout'?"#])
    }

    @Test("YAML 1.2 booleans: yes/no/on/off stay text")
    func norway() throws {
        let doc = try load("name: n\nsteps:\n  - id: a\n    timeout: 1s\n    inputs: {country: no, flag: on, real: true}\n")
        #expect(doc.workflow.steps[0].inputs == ["country": "no", "flag": "on", "real": true])
    }

    @Test("syntax errors, duplicate keys and empty files are located")
    func syntax() {
        #expect(problems("") == ["wf.yaml:1:1: error: the file is empty; a workflow needs at least 'name' and 'steps'"])
        #expect(problems("name: a\nname: b\nsteps: []\n").first?.hasPrefix("wf.yaml:1:1: error: duplicate key 'name'") == true)
        #expect(problems("- just\n- a list\n") == ["wf.yaml:1:1: error: a workflow must be a mapping of fields, not a list"])
    }

    @Test("size limits: 32 MiB (configurable), 100,000 steps, nesting, alias expansion", .ownThread)
    func limits() {
        let big = "name: big\n# " + String(repeating: "x", count: 32 * 1024 * 1024) + "\nsteps: []\n"
        #expect(problems(big).first?.contains("the limit is 33554432 (32 MiB); set NOVACRON_MAX_DEFINITION_BYTES to change it") == true)
        let small = WorkflowDecoder(maximumBytes: 1024).decode(
            "name: x\n# " + String(repeating: "x", count: 2000) + "\nsteps: [{id: a}]\n", file: "wf.yaml")
        #expect(
            small.errors.map(\.description) == [
                "wf.yaml:1:1: error: definition is 2028 bytes; the limit is 1024 (1 KiB); set NOVACRON_MAX_DEFINITION_BYTES to change it"
            ])
        #expect(WorkflowDecoder.maximumBytes(environment: ["NOVACRON_MAX_DEFINITION_BYTES": "5000"]) == 5000)
        #expect(WorkflowDecoder.maximumBytes(environment: ["NOVACRON_MAX_DEFINITION_BYTES": "-1"]) == WorkflowDecoder.defaultMaximumBytes)

        var many = "name: many\nsteps:\n"
        for i in 0...100_000 { many += "- {id: s\(i)}\n" }
        #expect(problems(many) == ["wf.yaml:3:1: error: steps: the workflow has 100001 steps; the limit is 100000"])

        let deep =
            "name: deep\nsteps: [{id: a, inputs: {x: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}}]\n"
        #expect(problems(deep) == ["wf.yaml:2:282: error: values are nested more than 256 levels deep"])

        var bomb = "name: bomb\nvariables:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...7 { bomb += "  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        bomb += "steps: [{id: s, timeout: 1s}]\n"
        #expect(problems(bomb).contains { $0.contains("values through its aliases (an alias bomb?)") })
    }
}
