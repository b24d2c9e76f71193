import Foundation
import HummingbirdTesting
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Approvals in the web UI, in a real Chromium", .serialized)
struct WebUIApprovalTests {
    @Test("a step waiting for approval shows Approve and Reject to an operator; approving with a comment lets the execution go on")
    func approve() async throws {
        let executor = ScriptedExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        try await engine.registerWorkflow(
            try workflowDocument(
                """
                name: gated-ui
                steps:
                  - {id: gate, type: approval, inputs: {message: "Ship?"}}
                  - {id: ci, type: wait, inputs: {signal: ci-done}}
                  - {id: ship, dependencies: [gate]}
                """))
        let tokens = try APITokens(environment: "operator:ui-operator")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.live) { client in
            let run = try await engine.executeWorkflow("gated-ui")
            let site = "http://127.0.0.1:\(try #require(client.port))"
            let browser = try await WebDriver.start()
            do {
                try await browser.navigate(site + "/")
                try await browser.waitUntil("document.querySelector('#login input#token')", "the sign-in form")
                try await browser.type("#token", "ui-operator")
                try await browser.click("#login button")
                try await browser.waitUntil("document.querySelector('#workflows tr[data-workflow=\"gated-ui\"]')", "the workflow")
                try await browser.navigate(site + "/#/executions/\(run.id)")
                try await browser.waitUntil("document.querySelector('#steps span.waiting[data-waiting=gate] button.approve')", "the Approve button")
                #expect(
                    try await browser.run("return document.querySelector('#steps span.waiting[data-waiting=ci] span.what').textContent")
                        == "waiting for signal ci-done")
                // A single-use callback for the signal wait, used by an "outside system" with no API token.
                _ = try await browser.run("document.querySelector('#steps span.waiting[data-waiting=ci] button.callback').click(); return true")
                try await browser.waitUntil("document.querySelector('#steps span.waiting[data-waiting=ci] input.callback-url')", "the callback URL")
                let url = try #require(
                    try await browser.run("return document.querySelector('#steps span.waiting[data-waiting=ci] input.callback-url').value").text)
                #expect(url.hasPrefix(site + "/api/v1/callbacks/ncb_"), "\(url)")
                // On a connection of its own, as an outside system would (the test client's may have idled out).
                let (used, answer) = try await RawHTTP.request(
                    port: try #require(client.port), method: "POST", path: String(url.dropFirst(site.count)),
                    headers: ["Content-Type": "application/json"], body: #"{"build": 5}"#)
                #expect(used == 202, "\(answer)")
                // In one script each: the page is redrawn as events come, which replaces the elements.
                _ = try await browser.run(
                    "const i = document.querySelector('#steps span.waiting[data-waiting=gate] input.comment'); i.value = 'looks good'; i.dispatchEvent(new Event('input')); return true"
                )
                _ = try await browser.run("document.querySelector('#steps span.waiting[data-waiting=gate] button.approve').click(); return true")
                try await browser.waitUntil("document.querySelector('#steps tr[data-step=ship] [data-status=success]')", "ship ran")
                await browser.quit()
            } catch {
                try? await browser.screenshot(to: Repository.path(".build/ui-screenshots/approval-failure.png"))
                await browser.quit()
                throw error
            }
            // Approved and signalled (through the callback): it ends.
            let now = try await engine.waitForExecution(run.id)
            #expect(now.status == .completed)
            #expect(now.stepResults["gate"]?.outputs["comment"] == "looks good")
            #expect(now.stepResults["gate"]?.outputs["approvedBy"] == "env-1")
            #expect(now.stepResults["ci"]?.outputs["payload"] == ["build": 5])
        }
    }
}
