import Foundation
import TestSupport
import Testing

/// Clients doing their worst against a real `novacron serve` (docs/security.md).
@Suite("Hostile clients against novacron serve", .serialized)
struct HostileClientsCLITests {
    @Test(
        "a 50 MB body on every operation that takes one is refused with a 4xx or a closed connection, never a 5xx; the server's memory stays bounded and it answers after"
    )
    func bigBodies() async throws {
        let (server, url) = try await CLI.serve(store: ["--memory"], token: "t0k")
        defer { server.terminateWithoutWaiting() }
        let run = try await ExternalTool.run(["python3", Repository.path("Tests/Fixtures/hostile/big_bodies.py"), url, "t0k"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // Every operation with a body, from the server's own OpenAPI document.
        #expect(lines.count >= 15, "\(run.output)")
        for line in lines {
            let outcome = line["outcome"]
            let refused = (outcome as? Int).map { (400..<500).contains($0) } ?? (outcome as? String == "closed")
            #expect(refused, "\(line["method"] ?? "") \(line["path"] ?? ""): \(outcome ?? "none")")
        }
        let health = try await ExternalTool.run(["curl", "-fsS", url + "/healthz"])
        #expect(health.status == 0 && health.output == "ok", "\(health.output)")
        // The peak resident size: no body was held whole, let alone one per request.
        let status = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)
        let peakKiB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        let peak = try #require(peakKiB, "\(status)")
        #expect(peak < 300 * 1024, "the server peaked at \(peak / 1024) MiB resident")
    }

    @Test(
        "nesting ten thousand deep, a YAML alias bomb, numbers and durations past any range and invalid UTF-8 on every operation with a body: each answered (a 4xx problem document where the body is refused), never a 5xx or a hang, and /healthz answers after each"
    )
    func hostileBodies() async throws {
        let (server, url) = try await CLI.serve(store: ["--memory"], token: "t0k")
        defer { server.terminateWithoutWaiting() }
        let run = try await ExternalTool.run(["python3", Repository.path("Tests/Fixtures/hostile/hostile_bodies.py"), url, "t0k"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // Seven bodies on each operation with one (three webhook sources), three more YAML ones on POST /workflows.
        #expect(lines.count >= 90, "\(run.output)")
        for line in lines {
            let what = "\(line["method"] ?? "") \(line["path"] ?? "") with \(line["body"] ?? "")"
            let status = line["outcome"] as? Int
            #expect(status.map { $0 < 500 } == true, "\(what): \(line["outcome"] ?? "none")")
            if line["mustRefuse"] as? Bool == true {
                #expect(status.map { (400..<500).contains($0) } == true, "\(what): \(line["outcome"] ?? "none")")
            }
            if let status, (400..<500).contains(status) {
                #expect(line["problem"] as? Bool == true, "\(what): a \(status) that is not a problem document")
            }
            #expect(line["healthy"] as? Bool == true, "\(what): /healthz did not answer ok after it")
        }
    }
}
