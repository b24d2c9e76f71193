import Foundation
import HummingbirdTesting
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("forEach in the web UI, in a real Chromium", .serialized)
struct WebUIForEachTests {
    @Test("a forEach step shows its item counts; opening it lists its items, and an item opens its own log; the timeline keeps one row per step")
    func items() async throws {
        let executor = ScriptedExecutor()
        executor.script("ping[0]", [.success(log: "h1 answered")])
        executor.script("ping[1]", [.failure("unreachable", exitCode: 1, log: "h2: no route to host")])
        executor.script("ping[2]", [.success(log: "h3 answered")])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        try await engine.registerWorkflow(
            try workflowDocument(
                """
                name: fan-ui
                variables: {hosts: [h1, h2, h3]}
                steps:
                  - {id: ping, forEach: "${hosts}", toleratedFailures: 1, inputs: {host: "${item}"}}
                  - {id: report, dependencies: [ping]}
                """))
        let tokens = try APITokens(environment: "viewer:ui-viewer")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.live) { client in
            let started = try await engine.executeWorkflow("fan-ui")
            let finished = try await engine.waitForExecution(started.id)
            #expect(finished.status == .completed)
            let site = "http://127.0.0.1:\(try #require(client.port))"
            let browser = try await WebDriver.start()
            do {
                try await browser.navigate(site + "/")
                try await browser.waitUntil("document.querySelector('#login input#token')", "the sign-in form")
                try await browser.type("#token", "ui-viewer")
                try await browser.click("#login button")
                try await browser.waitUntil("document.querySelector('#workflows tr[data-workflow=\"fan-ui\"]')", "the workflow")
                try await browser.navigate(site + "/#/executions/\(started.id)")
                try await browser.waitUntil("document.querySelector('#steps span.items[data-items=ping]')", "ping's item counts")
                #expect(
                    try await browser.run("return document.querySelector('#steps span.items[data-items=ping]').textContent")
                        == "3 items: 2 succeeded, 1 failed")
                #expect(try await browser.run("return document.querySelectorAll('#steps tbody tr').length") == 2, "items are not steps")
                try await browser.waitUntil("document.querySelectorAll('#gantt-chart rect.bar').length === 4", "four attempts in the timeline")
                #expect(try await browser.run("return document.querySelectorAll('#gantt-chart text:not(.tick)').length") == 2, "a row per step")
                try await browser.click("#steps tr[data-step=ping]")
                try await browser.waitUntil("document.querySelectorAll('#items tbody tr').length === 3", "ping's three items")
                #expect(
                    try await browser.run("return [...document.querySelectorAll('#items tr[data-step]')].map(r => r.dataset.status)") == [
                        "success", "failed", "success",
                    ])
                try await browser.click("#items tr[data-step='ping[1]']")
                try await browser.waitUntil("document.getElementById('log-step').textContent === 'ping[1]'", "the failed item's log")
                try await browser.waitUntil("document.getElementById('log').textContent.includes('no route to host')", "its text")
                try await browser.screenshot(to: Repository.path(".build/ui-screenshots/foreach.png"))
                await browser.quit()
            } catch {
                try? await browser.screenshot(to: Repository.path(".build/ui-screenshots/foreach-failure.png"))
                await browser.quit()
                throw error
            }
        }
    }
}
