import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

/// JSON definitions take a fast path that skips YAML's machinery; it must decode exactly what
/// the YAML path decodes, and its diagnostics must carry the same places.
@Suite("Definitions: the JSON fast path")
struct JSONFastPathTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_202

    /// The same text read through the YAML path: a leading comment makes it not look like JSON.
    static func viaYAML(_ json: String) -> WorkflowDecoder.Result { WorkflowDecoder().decode("# yaml\n" + json, file: "w.json") }
    static func viaJSON(_ json: String) -> WorkflowDecoder.Result { WorkflowDecoder().decode(json, file: "w.json") }

    @Test("every example, written as JSON, decodes to the same workflow and warnings on both paths")
    func examples() throws {
        for path in try Repository.files(in: "Examples", withExtension: "yaml") {
            let workflow = try WorkflowLoader.load(contentsOf: Repository.path(path)).workflow
            let json = workflow.document.jsonText
            let fast = Self.viaJSON(json), slow = Self.viaYAML(json)
            #expect(fast.errors.isEmpty && slow.errors.isEmpty, "\(path)")
            #expect(fast.workflow == slow.workflow, "\(path)")
            #expect(fast.workflow == workflow, "\(path)")
            let fastWarnings = try WorkflowLoader.load(source: json, file: "w.json").warnings.map(\.message)
            let slowWarnings = try WorkflowLoader.load(source: "# yaml\n" + json, file: "w.json").warnings.map(\.message)
            #expect(fastWarnings == slowWarnings, "\(path)")
        }
    }

    /// A random JSON value: strings with escapes and non-ASCII, numbers of every size, nesting.
    static func value(_ rng: inout SplitMix64, depth: Int = 0) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        // What JSON and Yams agree on: Yams reads 1e3 as text (YAML 1.1 wants a signed exponent)
        // and libyaml refuses \u0000 and surrogate pairs; ``jsonOnly()`` covers those.
        case 2: return ["0", "-0", "42", "-17", "3.25", "-0.5", "9007199254740991", "123456789012345678901234"].randomElement(using: &rng)!
        case 3, 4:
            let pieces = ["a", "é", "\\n", "\\t", "\\\"", "\\\\", "\\/", "\\u00e9", "${x}", " ", "日本", "😀"]
            return "\"" + (0..<Int.random(in: 0...6, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() + "\""
        case 5: return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in value(&rng, depth: depth + 1) }.joined(separator: ", ") + "]"
        default:
            let keys = ["k", "a.b", "x y", "ü", "n1", "n2"].shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng))
            return "{" + keys.map { "\"\($0)\": \(value(&rng, depth: depth + 1))" }.joined(separator: ",\n ") + "}"
        }
    }

    @Test("2,000 random definitions: the fast path gives the YAML path's workflow, or errors at the same places", .ownThread)
    func randomDefinitions() {
        var rng = SplitMix64(seed: Self.seed)
        var withErrors = 0
        for round in 0..<2000 {
            let json = """
                {"name": "r\(round)", "variables": {"v": \(Self.value(&rng))},
                 "steps": [{"id": "a", "inputs": {"x": \(Self.value(&rng))}, "timeout": \(["\"5s\"", "5", "\"5x\"", "1e+400", "true", "\"1m\"", "30"].randomElement(using: &rng)!)},
                           {"id": "b", "dependencies": ["a"], "inputs": {"command": \(Self.value(&rng))}}]}
                """
            let fast = Self.viaJSON(json), slow = Self.viaYAML(json)
            #expect(fast.workflow == slow.workflow, "seed \(Self.seed), round \(round): \(json)")
            // The YAML text has one more line at the top.
            let slowPlaces = slow.errors.map { "\(($0.location?.line ?? 1) - 1):\($0.location?.column ?? 0) \($0.message)" }
            let fastPlaces = fast.errors.map { "\($0.location?.line ?? 0):\($0.location?.column ?? 0) \($0.message)" }
            #expect(fastPlaces == slowPlaces, "seed \(Self.seed), round \(round): \(json)")
            if !fast.errors.isEmpty { withErrors += 1 }
        }
        // Both kinds were exercised.
        #expect(withErrors > 100 && withErrors < 1900, "seed \(Self.seed): \(withErrors) of 2000 had errors")
    }

    @Test("JSON the YAML path reads differently or not at all: exponents are numbers, \\u0000 and surrogate pairs are text")
    func jsonOnly() throws {
        let json =
            #"{"name": "x", "variables": {"n": 1e3, "m": -2.5E-3, "s": "a\u0000b\ud83d\ude00"}, "steps": [{"id": "a", "inputs": {"command": "true"}}]}"#
        let workflow = try #require(Self.viaJSON(json).workflow)
        #expect(workflow.variables == ["n": 1000, "m": -0.0025, "s": "a\u{0}b😀"])
        let huge = Self.viaJSON(#"{"name": "x", "variables": {"n": 1e400}, "steps": [{"id": "a"}]}"#)
        #expect(huge.errors.map(\.message) == ["the number 1e400 is out of range (at most ±9007199254740991, finite); quote it to keep it as text"])
        #expect(huge.errors.first?.location != nil)
    }

    @Test("a valid JSON file's warnings and later errors still get their line and column")
    func lazyLocations() throws {
        let json = """
            {
              "name": "x",
              "steps": [
                {"id": "a", "inputs": {"command": "true"}},
                {"id": "b", "dependencies": ["nope"], "inputs": {"command": "true"}}
              ]
            }
            """
        do {
            _ = try WorkflowLoader.load(source: json, file: "x.json")
            Issue.record("an unknown dependency was accepted")
        } catch {
            #expect(
                error.errors.map(\.description).first?.hasPrefix("x.json:5:34: error: steps[1].dependencies[0]: unknown step 'nope'") == true,
                "\(error.errors)")
        }
        let warned = try WorkflowLoader.load(source: json.replacingOccurrences(of: #"["nope"]"#, with: #"["a"]"#), file: "x.json")
        #expect(warned.warnings.first?.description.hasPrefix("x.json:4:5: warning:") == true, "\(warned.warnings)")
    }

    @Test(
        "what strict JSON refuses — duplicate keys, trailing text, bad escapes, raw control characters — is reported by the YAML path with its place")
    func refused() {
        let dup = Self.viaJSON(#"{"name": "x", "steps": [{"id": "a", "id": "b"}]}"#)
        #expect(dup.errors.first?.description == "w.json:1:26: error: duplicate key 'id' in a mapping")
        let trailing = Self.viaJSON(#"{"name": "x", "steps": [{"id": "a"}]} trailing"#)
        #expect(trailing.workflow == nil && trailing.errors.first?.location != nil)
        // YAML reads JSON-looking flow mappings too: those still work, the slow way.
        let flow = Self.viaJSON("{name: x, steps: [{id: a}]}")
        #expect(flow.errors.isEmpty && flow.workflow?.steps.map(\.id) == ["a"])
    }
}

@Suite("Definitions: the JSON fast path, where libyaml cannot follow")
struct JSONFastPathPresenceTests {
    @Test("JSON that libyaml cannot read still gets every check: an empty name and an empty step id are errors")
    func emptyFieldsStillChecked() {
        do {
            _ = try WorkflowLoader.load(
                source: #"{"name": "", "description": "\ud83d\ude80", "steps": [{"id": "", "inputs": {"command": "true"}}]}"#, file: "w.json")
            Issue.record("an empty name and step id were accepted")
        } catch {
            let messages = error.errors.map(\.message)
            #expect(messages.contains { $0.contains("step id must not be empty") }, "\(messages)")
            #expect(messages.contains { $0.contains("name") }, "\(messages)")
        }
    }
}
