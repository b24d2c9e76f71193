import Foundation
import Orchestration
import TestSupport
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

    /// The warnings of a valid file (empty when it is invalid).
    func warnings(_ yaml: String, actions: ActionCatalog = .builtIn) -> [String] {
        ((try? WorkflowLoader.load(source: yaml, file: "wf.yaml", actions: actions))?.warnings ?? []).map(\.description)
    }

    @Test("an unknown action is an error that lists the known ones and suggests the nearest")
    func unknownAction() {
        #expect(
            errors(
                """
                name: w
                steps:
                  - {id: build, type: container, action: docker-biuld, inputs: {image: app}}
                """) == [
                    "wf.yaml:3:42: error: steps[0].action: unknown action 'docker-biuld'; did you mean 'docker-build'?; known actions: docker-build, docker-run, health-check, http, kubectl-apply, noop, registry-push, shell, sleep"
                ])
    }

    @Test("an action on another step type runs as its own type, and a missing input fails the step when it starts: both are warnings, not errors")
    func typeAndInputs() throws {
        let yaml = """
            name: w
            steps:
              - {id: check, type: task, action: health-check, inputs: {url: "http://x"}, timeout: 1m}
              - {id: push, type: container, action: registry-push, timeout: 1m}
            """
        #expect(errors(yaml) == [])
        #expect(
            warnings(yaml) == [
                "wf.yaml:3:23: warning: steps[0].type: action 'health-check' runs as a wait step; the step's type task is ignored",
                "wf.yaml:4:41: warning: steps[1].action: action 'registry-push' needs input 'image' to run; without it the step fails",
            ])
        // At run time the step fails, saying which input it needs.
        let action = try #require(ActionCatalog.builtIn["registry-push"])
        #expect(throws: ActionError(message: "action 'registry-push' needs input 'image'")) { try action.apply(to: [:]) }
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
        #expect(
            warnings(
                """
                name: w
                steps:
                  - {id: up, action: helm-upgrade, inputs: {release: web}, timeout: 1m}
                """, actions: catalog) == [
                    "wf.yaml:3:44: warning: steps[0].inputs: action 'helm-upgrade' needs input 'chart' to run; without it the step fails"
                ])
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
