import Foundation
import Orchestration
import OrchestrationExecutors
import OrchestrationTesting
import TestSupport
import Testing

/// Step targets that misbehave (Tests/Fixtures/faults/bad_http.py): each attempt ends with a
/// reason, within the step's timeout, and the engine carries on.
@Suite("HTTP steps against targets that reset, hang or trickle")
struct StepTargetFaultTests {
    static func run(_ steps: String) async throws -> WorkflowExecution {
        try await WorkflowEngine.withEngine(executors: .standard()) { engine in
            try await engine.registerWorkflow(try workflowDocument("name: faults\nsteps:\n" + steps))
            return try await engine.waitForExecution(try await engine.executeWorkflow("faults").id)
        }
    }

    @Test("a reset connection fails the attempt saying so, and the retry policy tries again")
    func reset() async throws {
        try await withBadHTTPServer { base in
            let run = try await Self.run(
                """
                  - {id: call, type: api, inputs: {url: "\(base)/reset"}, retryPolicy: {maxAttempts: 2, initialDelay: 10ms}}
                """)
            let call = try #require(run.stepResults["call"])
            #expect(run.status == .failed)
            #expect(call.attempts == 2)
            #expect(call.error?.hasPrefix("GET \(base)/reset failed:") == true, "\(call.error ?? "")")
        }
    }

    @Test("a target that sends its headers and then nothing, or trickles a byte at a time, is cut off by the step's timeout; the other steps go on")
    func hangAndTrickle() async throws {
        try await withBadHTTPServer { base in
            let run = try await Self.run(
                """
                  - {id: hang, type: api, inputs: {url: "\(base)/hang"}, timeout: 1s, continueOnFailure: true}
                  - {id: trickle, type: api, inputs: {url: "\(base)/trickle"}, timeout: 1s, continueOnFailure: true}
                  - {id: after, type: task, inputs: {command: "true"}}
                """)
            for id in ["hang", "trickle"] {
                #expect(run.stepResults[id]?.status == .failed)
                #expect(run.stepResults[id]?.error == "timed out after 1s", "\(id): \(run.stepResults[id]?.error ?? "")")
            }
            #expect(run.stepResults["after"]?.status == .success)
        }
    }

    @Test("an endless body is cut at the 1 MiB the step keeps, and the attempt fails saying so")
    func flood() async throws {
        try await withBadHTTPServer { base in
            let run = try await Self.run("  - {id: call, type: api, inputs: {url: \"\(base)/flood\"}}\n")
            #expect(run.stepResults["call"]?.error?.hasPrefix("the response body is larger than 1024 KiB") == true)
        }
    }

    @Test("a host name that does not resolve fails the attempt at once, naming the URL")
    func unresolvable() async throws {
        let run = try await Self.run("  - {id: call, type: api, inputs: {url: \"http://no-such-host.invalid/health\"}}\n")
        #expect(run.status == .failed)
        #expect(run.stepResults["call"]?.error?.hasPrefix("GET http://no-such-host.invalid/health failed:") == true)
    }
}
