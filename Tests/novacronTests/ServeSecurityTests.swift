import Foundation
import OrchestrationTesting
import Testing

/// What the real binary gives a step, and how it holds connections, probed as an attacker would.
@Suite("Security of the novacron binary", .serialized)
struct ServeSecurityTests {
    @Test("a step that runs env sees neither the API tokens nor unreferenced secrets; a referenced secret reaches it and is redacted in its log")
    func stepEnvironment() async throws {
        let folder = try CLI.temporaryFolder()
        let dump = folder + "/env.txt"
        let workflow = folder + "/env.yaml"
        try """
        name: env-dump
        steps:
          - id: dump
            inputs: {command: 'env > "$INPUT_DEST"; echo "token=${secrets.DEPLOY_TOKEN}"', dest: "\(dump)"}
        """.write(toFile: workflow, atomically: true, encoding: .utf8)
        var environment = CLI.environment
        environment["NOVACRON_API_TOKENS"] = "admin:admin-token-value-123"
        environment["NOVACRON_SECRET_UNUSED"] = "unused-secret-value-456"
        environment["NOVACRON_SECRET_DEPLOY_TOKEN"] = "deploy-secret-value-789"
        environment["AWS_SECRET_ACCESS_KEY"] = "server-cloud-credential-000"
        environment["NOVACRON_STEP_ENV"] = "KUBECONFIG"
        environment["KUBECONFIG"] = "/etc/kube/config"
        let result = try await CLI.run(["run", workflow, "--memory", "--output", "json"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let seen = try String(contentsOfFile: dump, encoding: .utf8)
        for leaked in ["admin-token-value-123", "unused-secret-value-456", "server-cloud-credential-000", "NOVACRON_API_TOKENS", "NOVACRON_SECRET_"] {
            #expect(!seen.contains(leaked), "the step saw \(leaked)")
        }
        #expect(seen.contains("KUBECONFIG=/etc/kube/config"))
        #expect(seen.contains("PATH="))
        // The referenced secret reached the process (through its reference variable) and no log shows it.
        #expect(seen.contains("deploy-secret-value-789"))
        #expect(!result.stdout.contains("deploy-secret-value-789") && !result.stderr.contains("deploy-secret-value-789"))
        // Every variable the step saw is allowed, the step's own, or its attempt's.
        let allowed = [
            "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM", "LANG", "LANGUAGE", "TZ", "KUBECONFIG", "PWD", "SHLVL", "_", "OLDPWD",
            "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "CONTAINER_HOST", "XDG_RUNTIME_DIR",
        ]
        for line in seen.split(separator: "\n") {
            guard let name = line.split(separator: "=", maxSplits: 1).first.map(String.init), !name.isEmpty,
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { continue }
            let ok =
                allowed.contains(name) || name.hasPrefix("LC_") || name.hasPrefix("INPUT_") || name.hasPrefix("NOVACRON_REF_")
                || [
                    "NOVACRON_OUTPUT", "NOVACRON_EXECUTION_ID", "NOVACRON_WORKFLOW_ID", "NOVACRON_STEP_ID", "NOVACRON_ATTEMPT",
                    "NOVACRON_IDEMPOTENCY_KEY",
                ].contains(name)
            #expect(ok, "the step saw \(name)")
        }
    }

    @Test("with --max-connections 2, a third connection waits until one of the two closes")
    func connectionCap() async throws {
        let server = try CLI.Running(["serve", "--port", "0", "--max-connections", "2"])
        defer { server.terminateWithoutWaiting() }
        guard await server.waitFor({ $0.contains("listening on 127.0.0.1:") && $0.hasSuffix("\n") }),
            let port = server.seen.components(separatedBy: "listening on 127.0.0.1:").last.flatMap({ Int($0.prefix(while: \.isNumber)) })
        else {
            Issue.record("novacron serve did not start: \(server.seen)")
            return
        }
        let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        let a = try RawHTTP(port: port), b = try RawHTTP(port: port)
        for c in [a, b] {
            try await c.send(request)
            let status = try await c.head().status
            #expect(status == 200)
        }
        // The third is queued: nothing comes within half a second while both are open…
        let third = try RawHTTP(port: port, timeout: 0.5)
        try await third.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await #expect(throws: RawHTTP.Failure.self) { try await third.receive() }
        // …and it is served once one of them closes.
        a.shutdown()
        third.setTimeout(20)
        let status = try await third.head().status
        #expect(status == 200)
    }
}
