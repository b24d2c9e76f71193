import Foundation
import Orchestration
import Testing

@Suite("Action catalog")
struct ActionCatalogTests {
    func errors(_ yaml: String, actions: ActionCatalog = .builtIn) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: yaml, file: "wf.yaml", actions: actions)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("an unknown action is an error that lists the known ones and suggests the nearest")
    func unknownAction() {
        #expect(errors("""
            name: w
            steps:
              - {id: build, type: container, action: docker-biuld, inputs: {image: app}}
            """) == [
            "wf.yaml:3:42: error: steps[0].action: unknown action 'docker-biuld'; did you mean 'docker-build'?; known actions: docker-build, docker-run, health-check, http, kubectl-apply, noop, registry-push, shell, sleep",
        ])
    }

    @Test("an action on the wrong step type, or without an input it needs, is an error")
    func typeAndInputs() {
        #expect(errors("""
            name: w
            steps:
              - {id: check, type: task, action: health-check, inputs: {url: "http://x"}}
              - {id: push, type: container, action: registry-push}
            """) == [
            "wf.yaml:3:37: error: steps[0].action: action 'health-check' runs as a wait step, not task",
            "wf.yaml:4:41: error: steps[1].action: action 'registry-push' needs input 'image'",
        ])
    }

    @Test("a catalog file adds actions whose templates fill argv from the step's inputs")
    func userCatalog() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID().uuidString).yaml").path
        try """
            actions:
              helm-upgrade:
                type: task
                description: Upgrade a Helm release
                required: [release, chart]
                defaults: {namespace: default}
                inputs: {args: [helm, upgrade, --install, "{{release}}", "{{chart}}", -n, "{{namespace}}"]}
                outputs: {release: "{{release}}"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var catalog = ActionCatalog.builtIn
        catalog.merge(try ActionCatalog.load(contentsOf: path))
        let helm = try #require(catalog["helm-upgrade"])
        let inputs = try helm.apply(to: ["release": "web; rm -rf /", "chart": "./chart"])
        #expect(inputs["args"] == ["helm", "upgrade", "--install", "web; rm -rf /", "./chart", "-n", "default"])
        #expect(try helm.renderOutputs(inputs: inputs) == ["release": "web; rm -rf /"])
        #expect(throws: ActionError.self) { try helm.apply(to: ["release": "web"]) }
        #expect(errors("""
            name: w
            steps:
              - {id: up, action: helm-upgrade, inputs: {release: web}}
            """, actions: catalog) == ["wf.yaml:3:44: error: steps[0].inputs: action 'helm-upgrade' needs input 'chart'"])
    }

    @Test("a broken catalog file is a clear error naming the place")
    func brokenCatalog() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID().uuidString).yaml").path
        try "actions:\n  x: {type: spaceship}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ActionError(message: "\(path): actions.x.type: expected one of task, container, api, wait, lambda")) {
            try ActionCatalog.load(contentsOf: path)
        }
    }
}
