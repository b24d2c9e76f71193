import Foundation
import Hummingbird
import HummingbirdTesting
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing
import Yams

@Suite("Web UI in a real Chromium", .serialized)
struct WebUITests {
    static let workflow = """
        name: ui-demo
        description: Four steps in three stages
        triggers:
          - {id: nightly, type: schedule, schedule: "0 2 * * *", timezone: Europe/Berlin}
        steps:
          - {id: fetch, estimatedDuration: 1s}
          - {id: build, dependencies: [fetch], estimatedDuration: 5s}
          - {id: lint, dependencies: [fetch], estimatedDuration: 1s}
          - {id: ship, dependencies: [build, lint], estimatedDuration: 1s}
        """

    /// Screenshots for people to look at: .build/ui-screenshots/NAME.png.
    static func shot(_ name: String) -> String { Repository.path(".build/ui-screenshots/\(name).png") }

    @Test("sign in, see the workflow's DAG with its critical path, follow an execution live, read a log, retry it; a viewer sees no buttons")
    func walkThrough() async throws {
        let executor = ScriptedExecutor()
        executor.script("ship", [.failure("exit status 3: disk full"), .success()])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        try await engine.registerWorkflow(try workflowDocument(Self.workflow))
        let tokens = try APITokens(environment: "viewer:ui-viewer,operator:ui-operator")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.live) { client in
            let site = "http://127.0.0.1:\(try #require(client.port))"
            let browser = try await WebDriver.start()
            do {
                try await walk(browser, site: site, engine: engine, executor: executor, store: store)
                await browser.quit()
            } catch {
                try? await browser.screenshot(to: Self.shot("failure"))
                await browser.quit()
                throw error
            }
        }
    }

    func walk(_ browser: WebDriver, site: String, engine: WorkflowEngine, executor: ScriptedExecutor, store: SQLiteStore) async throws {
        let nightly = { try await store.triggerStates(workflowID: "ui-demo").first { $0.triggerID == "nightly" }?.enabled }
        // Without a token the API answers 401 and the page asks for one.
        try await browser.navigate(site + "/")
        try await browser.waitUntil("document.querySelector('#login input#token')", "the sign-in form")
        try await browser.type("#token", "ui-operator")
        try await browser.click("#login button")
        try await browser.waitUntil("document.querySelector('#workflows tr[data-workflow=\"ui-demo\"]')", "ui-demo in the workflows list")
        #expect(try await browser.run("return document.getElementById('who').textContent") == "role: operator sign out")
        try await browser.screenshot(to: Self.shot("workflows"))

        // The workflow page draws the DAG: four nodes, four edges, the critical path through build.
        try await browser.navigate(site + "/#/workflows/ui-demo")
        try await browser.waitUntil("document.querySelectorAll('#dag g.node').length === 4", "four nodes")
        #expect(try await browser.run("return document.querySelectorAll('#dag path.edge').length") == 4)
        #expect(
            try await browser.run("return [...document.querySelectorAll('#dag g.node.critical')].map(n => n.dataset.step)") == [
                "fetch", "build", "ship",
            ])
        #expect(
            try await browser.run("return [...document.querySelectorAll('#dag path.edge.critical')].map(e => e.dataset.from + '>' + e.dataset.to)")
                == ["fetch>build", "build>ship"])
        // Stages left to right: fetch, then build and lint in one column, then ship.
        let columns = try await browser.run(
            "return ['fetch','build','lint','ship'].map(s => document.querySelector(`#dag g.node[data-step=${s}]`).transform.baseVal[0].matrix.e)")
        guard case .array(let x) = columns, x.count == 4 else {
            Issue.record("no positions: \(columns)")
            return
        }
        #expect(x[1] == x[2])
        #expect(x[0].number! < x[1].number! && x[1].number! < x[3].number!)
        try await browser.screenshot(to: Self.shot("workflow-dag"))

        // Its triggers, with the next fire time; an operator switches the schedule off and on.
        try await browser.waitUntil("document.querySelector('#triggers tr[data-trigger=nightly][data-enabled=true]')", "the schedule trigger")
        #expect(
            try await browser.run("return document.querySelector('#triggers tr[data-trigger=nightly]').textContent").stringValue?.contains(
                "0 2 * * * (Europe/Berlin)") == true)
        try await browser.click("#triggers tr[data-trigger=nightly] button.toggle")
        try await browser.waitUntil("document.querySelector('#triggers tr[data-trigger=nightly][data-enabled=false]')", "the trigger switched off")
        // The server saved it: the schedule is off, not just drawn so.
        #expect(try await nightly() == false)
        try await browser.click("#triggers tr[data-trigger=nightly] button.toggle")
        try await browser.waitUntil(
            "document.querySelector('#triggers tr[data-trigger=nightly][data-enabled=true]')", "the trigger switched on again")
        #expect(try await nightly() == true)

        // Start it from the page with build held: the execution page shows the live states.
        executor.hold("build")
        try await browser.click("#start")
        try await browser.waitUntil("document.querySelector('#dag g.node[data-step=build][data-status=running]')", "build running")
        #expect(try await browser.run("return document.querySelector('#dag g.node[data-step=fetch]').dataset.status") == "success")
        let firstID = try #require(try await browser.run("return document.getElementById('execution-id').textContent").stringValue)
        #expect(try await engine.getExecution(firstID).status == .running)
        // The engine's ETA: build (5s) and ship (1s) still ahead, so about 6 s after build started.
        let shown = try #require(try await browser.run("return document.getElementById('eta').dataset.at").stringValue)
        let fractions = ISO8601DateFormatter()
        fractions.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let eta = try #require(fractions.date(from: shown) ?? ISO8601DateFormatter().date(from: shown))
        let building = try #require(try await engine.getExecution(firstID).stepResults["build"]?.startedAt)
        #expect(abs(eta.timeIntervalSince(building) - 6) < 2, "ETA \(shown), build started \(building)")
        try await browser.screenshot(to: Self.shot("execution-running"))

        // Released, build finishes and ship fails; the page follows over SSE without a reload.
        executor.release("build")
        try await browser.waitUntil("document.querySelector('#execution-status [data-status=failed]')", "the execution failed")
        try await browser.waitUntil("document.querySelector('#dag g.node[data-step=ship][data-status=failed]')", "ship failed in the graph")
        try await browser.waitUntil("document.querySelectorAll('#gantt-chart rect.bar').length === 4", "four bars in the timeline")
        try await browser.waitUntil(
            "document.querySelector('#gantt-chart rect.bar[data-step=ship]').classList.contains('failed')", "ship's bar failed")
        try await browser.click("#steps tr[data-step=ship]")
        try await browser.waitUntil("document.getElementById('log-step').textContent === 'ship'", "ship's log")
        #expect(
            try await browser.run("return document.querySelector('#steps tr[data-step=ship]').textContent").stringValue?.contains("disk full") == true
        )
        #expect(try await browser.run("return ['pause','resume','cancel','retry'].filter(b => document.getElementById(b))") == ["retry"])
        try await browser.screenshot(to: Self.shot("execution-failed"))

        // Retry: a new execution that reuses what succeeded and completes.
        try await browser.click("#retry")
        try await browser.waitUntil(
            "document.getElementById('execution-id') && document.getElementById('execution-id').textContent !== '\(firstID)'", "the retried execution"
        )
        try await browser.waitUntil("document.querySelector('#execution-status [data-status=completed]')", "the retry completed")
        let secondID = try #require(try await browser.run("return document.getElementById('execution-id').textContent").stringValue)
        let retried = try await engine.waitForExecution(secondID)
        #expect(retried.status == .completed)
        try await browser.screenshot(to: Self.shot("execution-retried"))

        // Debug mode from the workflow page: paused before each step, "Step" runs just the next one.
        try await browser.navigate(site + "/#/workflows/ui-demo")
        try await browser.waitUntil("document.getElementById('start-debug')", "the Debug button")
        try await browser.click("#start-debug")
        try await browser.waitUntil("document.querySelector('#step[data-step=fetch]')", "paused before fetch, with a Step button")
        try await browser.click("#step")
        try await browser.waitUntil(
            "document.querySelector('#step') && document.querySelector('#step').dataset.step !== 'fetch'", "paused before the next step")
        #expect(try await browser.run("return document.getElementById('step').dataset.step") == "build")
        #expect(try await browser.run("return document.querySelector('#dag g.node[data-step=fetch]').dataset.status") == "success")
        #expect(try await browser.run("return document.querySelector('#dag g.node[data-step=build]').dataset.status") == "pending")
        try await browser.click("#cancel")
        try await browser.waitUntil("document.querySelector('#execution-status [data-status=cancelled]')", "the debugged execution cancelled")

        // The executions list filters by status.
        try await browser.navigate(site + "/#/executions?status=failed")
        try await browser.waitUntil("document.querySelector('table.executions tr[data-execution]')", "failed executions")
        #expect(
            try await browser.run("return [...document.querySelectorAll('table.executions tr[data-execution]')].map(r => r.dataset.execution)") == [
                .string(firstID)
            ])
        try await browser.screenshot(to: Self.shot("executions-failed"))

        // A viewer sees the same pages without the buttons.
        try await browser.run("localStorage.setItem('novacron.token', 'ui-viewer')")
        try await browser.navigate(site + "/#/workflows")
        try await browser.run("location.reload()")
        try await browser.waitUntil("document.getElementById('who').textContent.startsWith('role: viewer')", "the viewer role")
        try await browser.navigate(site + "/#/executions/" + firstID)
        try await browser.waitUntil("document.querySelector('#dag g.node[data-step=ship][data-status=failed]')", "the failed execution as a viewer")
        #expect(try await browser.run("return document.querySelectorAll('#actions button').length") == 0)
        try await browser.navigate(site + "/#/workflows/ui-demo")
        try await browser.waitUntil("document.querySelectorAll('#dag g.node').length === 4", "the graph as a viewer")
        #expect(try await browser.run("return document.getElementById('start')") == .null)
        #expect(try await browser.run("return document.querySelectorAll('#triggers button').length") == 0)
        try await browser.screenshot(to: Self.shot("viewer"))
    }

    @Test("the server serves the UI's files and the OpenAPI document as they are in the repository (embedded at build time)")
    func embedded() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0))
        let web = Repository.path("Sources/OrchestrationServer/Web")
        let names = try FileManager.default.contentsOfDirectory(atPath: web).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == ["app.css", "app.js", "index.html"])
        let yaml = try String(contentsOfFile: Repository.path("Sources/OrchestrationAPI/openapi.yaml"), encoding: .utf8)
        let expected = try JSONDecoder().decode(
            JSONValue.self, from: JSONSerialization.data(withJSONObject: try #require(Yams.load(yaml: yaml) as? [String: Any])))
        try await app.test(.router) { client in
            for name in names {
                let onDisk = try String(contentsOfFile: web + "/" + name, encoding: .utf8)
                try await client.execute(uri: "/ui/" + name, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == onDisk, "/ui/\(name) differs from Web/\(name)")
                }
            }
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                let served = try JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: response.body).utf8))
                #expect(served == expected, "openapi.json differs from openapi.yaml")
            }
        }
    }
}

extension JSONValue {
    var number: Double? { if case .number(let n) = self { n } else { nil } }
}

extension WebUITests {
    @Test(
        "the workflow page shows what the learning engine learned: success rate, duration trend, per-step figures, suggestions with evidence; an admin applies one"
    )
    func learning() async throws {
        let executor = ScriptedExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(
            executors: executors, secrets: SecretProvider(environment: [:]), store: store, learning: LearningEngine(store: store))
        // ship also lists fetch, which it already waits for through build: a redundant dependency.
        try await engine.registerWorkflow(
            try workflowDocument(
                """
                name: learned
                steps:
                  - {id: fetch, estimatedDuration: 1s}
                  - {id: build, dependencies: [fetch], estimatedDuration: 5s}
                  - {id: ship, dependencies: [build, fetch], estimatedDuration: 1s}
                """))
        let tokens = try APITokens(environment: "admin:ui-admin")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.live) { client in
            // The engine runs with the server.
            for i in 0..<12 {
                executor.script("build", [i % 4 == 3 ? .failure("compiler crashed after \(i) s") : .success()])
                let e = try await engine.executeWorkflow("learned")
                _ = try await engine.waitForExecution(e.id)
            }
            let site = "http://127.0.0.1:\(try #require(client.port))"
            let browser = try await WebDriver.start()
            do {
                try await browser.navigate(site + "/")
                try await browser.waitUntil("document.querySelector('#login input#token')", "the sign-in form")
                try await browser.type("#token", "ui-admin")
                try await browser.click("#login button")
                try await browser.waitUntil("document.querySelector('#workflows tr[data-workflow=\"learned\"]')", "the workflow")
                try await browser.navigate(site + "/#/workflows/learned")
                try await browser.waitUntil("document.getElementById('learning-summary')", "the learning summary")
                #expect(
                    try await browser.run("return document.getElementById('learning-summary').textContent").stringValue?.hasPrefix(
                        "12 executions · success rate 75.0%") == true)
                #expect(try await browser.run("return document.querySelectorAll('#trend circle').length") == 12)
                #expect(try await browser.run("return document.querySelectorAll('#trend circle.failed').length") == 3)
                #expect(
                    try await browser.run("return [...document.querySelectorAll('#patterns tr[data-step]')].map(r => r.dataset.step)") == [
                        "fetch", "build", "ship",
                    ])
                #expect(try await browser.run("return document.querySelector('#patterns tr[data-step=build]').children[2].textContent") == "75.0%")
                let suggestion = "#suggestions li[data-suggestion=\"remove-dependency/ship:fetch\"]"
                try await browser.waitUntil("document.querySelector('\(suggestion)')", "the redundant dependency suggestion")
                #expect(
                    try await browser.run("return document.querySelector('\(suggestion) pre.evidence').textContent").stringValue?.contains(
                        "\"via\": \"build\"") == true)
                try await browser.screenshot(to: Self.shot("learning"))
                try await browser.click("\(suggestion) button.apply")
                try await browser.waitUntil(
                    "document.getElementById('flash') && document.getElementById('flash').textContent.startsWith('Applied remove-dependency/ship:fetch')",
                    "the applied message")
                #expect(await engine.workflow("learned")?.step("ship")?.dependencies == ["build"])
                await browser.quit()
            } catch {
                try? await browser.screenshot(to: Self.shot("learning-failure"))
                await browser.quit()
                throw error
            }
        }
    }
}
