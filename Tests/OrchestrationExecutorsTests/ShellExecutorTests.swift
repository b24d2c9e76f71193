import Foundation
import Orchestration
import OrchestrationExecutors
import OrchestrationTesting
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a workflow through the real engine with the real executors and the real clock.
func runReal(_ yaml: String, inputs: [String: JSONValue] = [:], grace: Duration = .seconds(5), logLimit: Int = 64 * 1024) async throws -> (
    WorkflowExecution, [String: String]
) {
    let document = try workflowDocument(yaml)
    return try await WorkflowEngine.withEngine(
        executors: .standard(), configuration: EngineConfiguration(killGracePeriod: grace, logLimit: logLimit)
    ) { engine in
        try await engine.registerWorkflow(document)
        let e = try await engine.waitForExecution(try await engine.executeWorkflow(document.workflow.id, inputs: inputs).id)
        var logs: [String: String] = [:]
        for id in e.stepResults.keys { logs[id] = try await engine.log(executionID: e.id, stepID: id) }
        return (e, logs)
    }
}

/// A fresh empty folder under the temporary directory.
func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("Shell and container executors against real processes")
struct ShellExecutorTests {
    @Test("outputs from NOVACRON_OUTPUT as key=value lines or JSON feed later steps")
    func outputs() async throws {
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - id: lines
                inputs: {command: 'echo "version=1.2.3" >> "$NOVACRON_OUTPUT"; echo "note=a=b" >> "$NOVACRON_OUTPUT"; echo building'}
              - id: json
                inputs: {command: 'printf ''{"count": 3, "tags": ["x"]}'' > "$NOVACRON_OUTPUT"'}
              - id: use
                inputs: {command: 'echo "v=${lines.version} n=${json.count} t=${json.tags}"'}
            """)
        #expect(e.status == .completed)
        #expect(e.stepResults["lines"]?.outputs == ["version": "1.2.3", "note": "a=b"])
        #expect(e.stepResults["json"]?.outputs == ["count": 3, "tags": ["x"]])
        #expect(logs["lines"] == "building\n")
        #expect(logs["use"] == "v=1.2.3 n=3 t=[\"x\"]\n")
    }

    @Test("inputs reach the process as INPUT_ variables, with env, workingDirectory and the idempotency key")
    func environment() async throws {
        let folder = try temporaryFolder()
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - id: show
                inputs:
                  command: 'echo "$INPUT_IMAGE_TAG|$GREETING|$(pwd)|$NOVACRON_IDEMPOTENCY_KEY|$NOVACRON_ATTEMPT"'
                  image-tag: v9
                  env: {GREETING: hi}
                  workingDirectory: \(folder)
            """)
        #expect(e.status == .completed)
        let resolved = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        #expect(logs["show"] == "v9|hi|\(resolved)|\(e.id)/show|1\n")
    }

    @Test("args are exec'd without a shell; a missing program is a clear failure")
    func args() async throws {
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - {id: direct, inputs: {args: [printf, "%s|", "a b", "$HOME", ";"]}}
              - {id: missing, inputs: {args: [no-such-program-novacron]}, continueOnFailure: true}
            """)
        #expect(logs["direct"] == "a b|$HOME|;|")
        #expect(e.stepResults["missing"]?.status == .failed)
        #expect(e.stepResults["missing"]?.error == "command not found: no-such-program-novacron")
    }

    @Test("a non-zero exit fails the step with the exit code and keeps the log")
    func exitCode() async throws {
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - {id: fail, inputs: {command: 'echo to-stdout; echo to-stderr >&2; exit 7'}}
            """)
        let fail = try #require(e.stepResults["fail"])
        #expect(fail.status == .failed)
        #expect(fail.exitCode == 7)
        #expect(fail.error == "exit code 7")
        #expect(logs["fail"] == "to-stdout\nto-stderr\n")
        #expect(e.status == .failed)
    }

    @Test(
        "hostile inputs reach the shell as data, never as syntax",
        arguments: [
            "'; rm -rf ~ #", "$(touch CANARY)", "`touch CANARY`", "a\nb; touch CANARY", "\"; touch CANARY; \"", "${HOME}", "*",
        ])
    func hostileInputs(_ value: String) async throws {
        let folder = try temporaryFolder()
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - id: echo
                inputs:
                  workingDirectory: \(folder)
                  command: |
                    printf '%s\\n' "double=${evil}"
                    printf '%s\\n' 'single=${evil}'
                    printf '%s\\n' bare=${evil}
                    printf '%s' ${evil} > bare.txt
            """, inputs: ["evil": .string(value)])
        #expect(e.status == .completed)
        #expect(logs["echo"] == "double=\(value)\nsingle=\(value)\nbare=\(value)\n")
        #expect(try String(contentsOfFile: folder + "/bare.txt", encoding: .utf8) == value)
        #expect(!FileManager.default.fileExists(atPath: folder + "/CANARY"))
    }

    @Test("a step that ignores SIGTERM is killed after the grace period, with its children")
    func ignoresSigterm() async throws {
        let folder = try temporaryFolder()
        let (e, _) = try await runReal(
            """
            name: w
            steps:
              - id: stubborn
                timeout: 500ms
                inputs:
                  command: |
                    trap '' TERM
                    sleep 300 &
                    echo $! > \(folder)/child.pid
                    wait
            """, grace: .milliseconds(200))
        let stubborn = try #require(e.stepResults["stubborn"])
        #expect(stubborn.status == .failed)
        #expect(stubborn.timedOut)
        let pid = try #require(
            Int32(try String(contentsOfFile: folder + "/child.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!Self.isAlive(pid))
    }

    @Test("a step printing 1 GB keeps only a bounded tail (its memory is measured by the CLI test)")
    func hugeOutput() async throws {
        let (e, logs) = try await runReal(
            """
            name: w
            steps:
              - {id: flood, inputs: {command: 'head -c 1000000000 /dev/zero | tr "\\\\0" x; echo; echo THE-END'}}
            """, logLimit: 4096)
        #expect(e.status == .completed)
        let log = try #require(logs["flood"])
        #expect(log.hasPrefix("[… 999995913 bytes dropped …]\n"))
        #expect(log.hasSuffix("xxx\nTHE-END\n"))
        #expect(log.utf8.count < 4200)
    }

    @Test("outputs larger than 1 MiB fail the step with a hint")
    func outputLimit() async throws {
        let (e, _) = try await runReal(
            """
            name: w
            steps:
              - {id: big, inputs: {command: 'head -c 2000000 /dev/zero | tr "\\\\0" x | sed "s/^/k=/" > "$NOVACRON_OUTPUT"'}}
            """)
        #expect(e.stepResults["big"]?.error == "NOVACRON_OUTPUT: outputs larger than 1024 KiB; write big data to a file and output its path")
    }

    @Test("container steps without docker or podman fail naming what to install; lambda without the cloud executor says so")
    func unavailable() async throws {
        let request = StepRequest(
            executionID: "e", workflowID: "w", stepID: "build", attempt: 1, type: .container, action: "docker-build",
            inputs: ["args": ["build", "."]])
        let container = await ContainerExecutor(runtime: nil, searchPath: "/nonexistent").execute(request, context: ExecutorContext())
        #expect(
            container.error
                == "no container runtime found: install Docker (https://docs.docker.com/engine/install/) or Podman (apt install podman), or set NOVACRON_CONTAINER_RUNTIME"
        )
        let (e, _) = try await runReal(
            """
            name: w
            steps:
              - {id: fn, type: lambda, inputs: {function: resize}}
            """)
        #expect(
            e.stepResults["fn"]?.error
                == "lambda step 'fn': no cloud function executor is registered (register OrchestrationCloud's FunctionExecutor with registerCloudFunctions())"
        )
    }

    @Test("a container runtime gets the action's arguments and the action's outputs are added")
    func containerArgs() async throws {
        // A stand-in runtime that records its arguments: the executor's contract is the CLI call.
        let folder = try temporaryFolder()
        let fake = folder + "/docker"
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \(folder)/args.txt\n".write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let document = try workflowDocument(
            """
            name: w
            steps:
              - {id: build, type: container, action: docker-build, inputs: {image: ghcr.io/acme/app, tag: "v2", context: ./svc}}
            """)
        var executors = ExecutorRegistry.standard()
        executors.register(ContainerExecutor(runtime: fake), for: .container)
        let e = try await WorkflowEngine.withEngine(executors: executors) { engine in
            try await engine.registerWorkflow(document)
            return try await engine.waitForExecution(try await engine.executeWorkflow("w").id)
        }
        #expect(e.status == .completed)
        #expect(try String(contentsOfFile: folder + "/args.txt", encoding: .utf8) == "build\n-t\nghcr.io/acme/app:v2\n-f\nDockerfile\n./svc\n")
        #expect(e.stepResults["build"]?.outputs["image"] == "ghcr.io/acme/app:v2")
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie (exited, not yet reaped by init) counts as dead.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
