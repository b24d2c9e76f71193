import Orchestration
import TestSupport
import Testing

@Suite("Validation")
struct WorkflowValidatorTests {
    func check(_ workflow: Workflow) -> WorkflowValidator.Result {
        WorkflowValidator().validate(workflow)
    }

    @Test("workflows built in code are checked too, without locations")
    func inCode() {
        let w = Workflow(
            name: "code",
            steps: [
                WorkflowStep(id: "build", timeout: .seconds(60)),
                WorkflowStep(id: "push", dependencies: ["biuld"], timeout: .seconds(60)),
            ])
        let result = check(w)
        #expect(result.errors.map(\.description) == ["error: steps[1].dependencies[0]: unknown step 'biuld'; did you mean 'build'?"])
        #expect(result.graph == nil)
    }

    @Test("references add implicit dependencies and are checked")
    func references() throws {
        let w = Workflow(
            name: "refs",
            steps: [
                WorkflowStep(id: "build", timeout: .seconds(1)),
                WorkflowStep(id: "push", inputs: ["image": "${build.image}:${tag}", "nested": ["x": ["${steps.build.id}"]]], timeout: .seconds(1)),
                WorkflowStep(id: "notify", inputs: ["text": "${push.status} ${secrets.TOKEN} ${execution.id} ${trigger.ref}"], timeout: .seconds(1)),
            ], variables: ["tag": "1"])
        let graph = try #require(check(w).graph)
        #expect(graph.upstream == [[], [0], [1]])
        #expect(graph.explicitCount == [0, 0, 0])

        var bad = w
        bad.steps[2].inputs = ["a": "${self-ref.x}", "b": "${notify.out}", "c": "${secrets}", "d": "${pushh.out}"]
        #expect(
            check(bad).errors.map(\.message) == [
                "${self-ref.x} refers to unknown step 'self-ref'; for a field of an input write ${inputs.self-ref.x}",
                "${notify.out}: step 'notify' cannot read its own result before it has run",
                "${secrets} is incomplete; write ${secrets.NAME}",
                "${pushh.out} refers to unknown step 'pushh'; did you mean 'push'?",
            ])
    }

    @Test("a cycle through a reference is reported as the cycle")
    func implicitCycle() {
        let w = Workflow(
            name: "loop",
            steps: [
                WorkflowStep(id: "a", inputs: ["x": "${b.out}"], timeout: .seconds(1)),
                WorkflowStep(id: "b", dependencies: ["a"], timeout: .seconds(1)),
            ])
        #expect(
            check(w).errors.map(\.message) == ["dependency cycle: a -> b -> a (through a ${b.…} reference); each step waits for the one before it"])
    }

    @Test("warnings: missing timeouts, inputs without defaults, secrets in clear, unreachable retries")
    func warnings() {
        let w = Workflow(
            name: "warn",
            steps: [
                WorkflowStep(id: "a", inputs: ["command": "deploy ${target}"]),
                WorkflowStep(
                    id: "b", timeout: .seconds(1),
                    retryPolicy: RetryPolicy(maxAttempts: 5, backoffStrategy: .fixed, initialDelay: .seconds(30), jitter: .none)),
            ], triggers: [WorkflowTrigger(id: "hook", type: .webhook, source: "github", secret: "hunter2")],
            timeout: .seconds(60))
        let result = check(w)
        #expect(result.errors.isEmpty)
        #expect(
            result.warnings.map(\.message) == [
                "the delays between the 5 attempts add up to 2m, longer than the workflow timeout (1m): the last attempts can never run",
                "the webhook secret is written in clear in the file; use ${secrets.NAME}",
                "step without a timeout: 'a'; only the workflow timeout (1m) stops them",
                "input 'target' has no default in 'variables'; every execution must supply it",
                "step with nothing to run: 'b'; a task step needs inputs.command or inputs.args, a container step an action or inputs.args, an api step inputs.url, a wait step inputs.duration or inputs.url — without it the step fails when it starts",
            ])
    }

    @Test("trigger configurations are checked by type")
    func triggers() {
        let w = Workflow(
            name: "t", steps: [WorkflowStep(id: "a", timeout: .seconds(1))],
            triggers: [
                WorkflowTrigger(
                    id: "m", type: .metric, source: "prometheus", conditions: ["metric": "cpu", "operator": "greater", "threshold": "80"]),
                WorkflowTrigger(id: "i", type: .incident, source: "pagerduty", conditions: ["severity": [1]]),
                WorkflowTrigger(id: "s", type: .schedule, schedule: "@hourly", timezone: "Europe/Berln"),
                WorkflowTrigger(id: "e", type: .event),
                WorkflowTrigger(id: "s", type: .webhook, source: "bitbucket", inputs: ["x": "${a.out}"]),
            ])
        #expect(
            check(w).errors.map(\.message) == [
                "unknown operator 'greater'; expected one of gt, gte, lt, lte, eq, ne, >, >=, <, <=, ==, !=",
                "threshold must be a number, not string",
                "severity must be a name or a list of names",
                "unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?; use an IANA name like 'Europe/Berlin'",
                "an event trigger needs 'event', an event type pattern like 'deployment.*'",
                "duplicate trigger id 's'",
                "${a.out}: step outputs cannot be used here; triggers run before any step",
                "unknown webhook source 'bitbucket'; expected one of github, gitlab, generic",
            ])
    }

    @Test("the guide's cache inputs are checked like the cache block")
    func guideCacheInputs() {
        let w = Workflow(
            name: "c",
            steps: [
                WorkflowStep(id: "a", inputs: ["_cache_enabled": "yes", "_cache_ttl": "soon"], timeout: .seconds(1)),
                WorkflowStep(id: "b", inputs: ["_cache_enabled": true, "_cache_ttl": 3600], timeout: .seconds(1)),
            ])
        let result = check(w)
        #expect(
            result.errors.map(\.message) == [
                "_cache_enabled must be true or false",
                "_cache_ttl 'soon' is not a duration like '1h' or a number of seconds",
            ])
        #expect(w.steps[1].effectiveCache == CachePolicy(ttl: .seconds(3600)))
        #expect(w.steps[0].effectiveCache == nil)
    }
}
