import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Learning: statistics, error signatures, JSON Patch, documents")
struct LearningStatisticsTests {
    @Test("Wilson bounds match the textbook interval (8 of 10 at 95%: 0.490 to 0.943) and behave at the edges")
    func wilson() {
        #expect(abs(Statistics.wilsonLower(8, 10, z: 1.959964) - 0.4902) < 0.0005)
        #expect(abs(Statistics.wilsonUpper(8, 10, z: 1.959964) - 0.9433) < 0.0005)
        #expect(Statistics.wilsonLower(0, 20) == 0)
        #expect(Statistics.wilsonUpper(20, 20) == 1)
        #expect(Statistics.wilsonLower(0, 0) == 0)
        // More evidence, tighter bound.
        #expect(Statistics.wilsonLower(80, 100) > Statistics.wilsonLower(8, 10))
    }

    @Test("the normal quantile inverts the distribution function; known quantiles")
    func normal() {
        #expect(abs(Statistics.normalQuantile(0.975) - 1.959964) < 1e-6)
        #expect(abs(Statistics.normalQuantile(0.995) - 2.575829) < 1e-6)
        #expect(abs(Statistics.normalQuantile(0.001) + 3.090232) < 1e-6)
        for p in stride(from: 0.01, to: 1, by: 0.07) {
            #expect(abs(Statistics.normalCDF(Statistics.normalQuantile(p)) - p) < 1e-9)
        }
    }

    @Test("Mann–Whitney: the same distribution is not significant, a 1.5× slowdown is")
    func mannWhitney() {
        var rng = SeededGenerator(seed: 7)
        let a = (0..<100).map { _ in Double.random(in: 10...20, using: &rng) }
        let b = (0..<30).map { _ in Double.random(in: 10...20, using: &rng) }
        let slow = (0..<30).map { _ in Double.random(in: 15...30, using: &rng) }
        #expect(Statistics.mannWhitneyGreater(later: b, earlier: a) > 0.01)
        #expect(Statistics.mannWhitneyGreater(later: slow, earlier: a) < 1e-6)
        #expect(Statistics.mannWhitneyGreater(later: [5, 5, 5], earlier: [5, 5, 5]) > 0.4)
    }

    @Test("a log-normal fit with right-censored samples recovers the distribution a plain fit underestimates")
    func censoredFit() throws {
        var rng = SeededGenerator(seed: 11)
        let mu = log(40.0), sigma = 0.5, cut = 60.0
        var observed: [Double] = [], censored: [Double] = []
        for _ in 0..<4000 {
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let x = exp(mu + sigma * z)
            if x > cut { censored.append(cut) } else { observed.append(x) }
        }
        #expect(censored.count > 400)  // about 21% cut off
        let fit = try #require(Statistics.censoredLogNormal(observed: observed, censoredAt: censored))
        #expect(abs(fit.mu - mu) < 0.03)
        #expect(abs(fit.sigma - sigma) < 0.03)
        let naive = try #require(Statistics.censoredLogNormal(observed: observed, censoredAt: []))
        #expect(naive.mu < mu - 0.05)
    }

    @Test("error messages cluster by shape: numbers, ids, paths, addresses and times are taken out")
    func signatures() {
        #expect(
            ErrorSignature.of("connection to 10.0.0.7:5432 refused after 3012 ms")
                == ErrorSignature.of("connection to 10.0.0.9:5432 refused after 95 ms"))
        #expect(ErrorSignature.of("connection to 10.0.0.7:5432 refused after 3012 ms") == "connection to <ip>:<n> refused after <n> ms")
        #expect(ErrorSignature.of("job 3f2a9c1e-7b4d-4e2a-9f00-1c2d3e4f5a6b failed at 2026-11-27T01:02:03Z") == "job <uuid> failed at <time>")
        #expect(ErrorSignature.of("cannot open /var/lib/app/data-17.db: permission denied") == "cannot open <path>: permission denied")
        #expect(ErrorSignature.of("commit deadbeef12 not found") == "commit <hex> not found")
        #expect(ErrorSignature.of("exit   status\n 2") == "exit status <n>")
        #expect(ErrorSignature.of("timeout") != ErrorSignature.of("refused"))
    }

    @Test("JSON Patch: the RFC 6902 appendix examples for add, remove, replace and test")
    func jsonPatch() throws {
        // A.1, A.2, A.3, A.5, A.8, A.9 of RFC 6902.
        #expect(try JSONPatch.apply([JSONPatchOperation(.add, "/baz", "qux")], to: ["foo": "bar"]) == ["baz": "qux", "foo": "bar"])
        #expect(try JSONPatch.apply([JSONPatchOperation(.add, "/foo/1", "qux")], to: ["foo": ["bar", "baz"]]) == ["foo": ["bar", "qux", "baz"]])
        #expect(try JSONPatch.apply([JSONPatchOperation(.remove, "/baz")], to: ["baz": "qux", "foo": "bar"]) == ["foo": "bar"])
        #expect(
            try JSONPatch.apply([JSONPatchOperation(.replace, "/baz", "boo")], to: ["baz": "qux", "foo": "bar"]) == ["baz": "boo", "foo": "bar"])
        let doc: JSONValue = ["baz": "qux", "foo": ["a", 2, "c"]]
        #expect(try JSONPatch.apply([JSONPatchOperation(.test, "/baz", "qux"), JSONPatchOperation(.test, "/foo/1", 2)], to: doc) == doc)
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply([JSONPatchOperation(.test, "/baz", "bar")], to: doc) }
        // Escapes (RFC 6901), appending with '-', and all-or-nothing.
        #expect(try JSONPatch.apply([JSONPatchOperation(.replace, "/a~1b", 1)], to: ["a/b": 0]) == ["a/b": 1])
        #expect(try JSONPatch.apply([JSONPatchOperation(.add, "/foo/-", "d")], to: ["foo": ["a"]]) == ["foo": ["a", "d"]])
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply([JSONPatchOperation(.replace, "/missing", 1)], to: ["a": 0]) }
        #expect(throws: JSONPatch.Failure.self) {
            try JSONPatch.apply([JSONPatchOperation(.add, "/a", 1), JSONPatchOperation(.remove, "/nope")], to: [:])
        }
    }

    @Test("every example's definition document decodes back to the same workflow")
    func documentRoundTrip() throws {
        let folder = Repository.path("Examples")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where file.hasSuffix(".yaml") {
            let original = try WorkflowLoader.load(contentsOf: folder + "/" + file).workflow
            let again = try WorkflowLoader.load(source: original.document.jsonText, file: file).workflow
            #expect(again == original, "\(file)")
        }
    }
}
