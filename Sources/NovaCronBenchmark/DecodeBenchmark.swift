import Foundation
import Orchestration

/// `novacron-bench decode [--sizes 10000,100000]`: how long a large definition takes from text
/// to a plan — decode, validate, plan — written as JSON and as YAML. The workflow is a layered
/// DAG of realistic steps (about 100 bytes each: an id, a type, a command, one to three
/// dependencies on the layer before, a timeout). Best of 3 runs; one line per size and format.
/// `--formats json,json-slow,yaml` picks formats (json-slow: JSON read through the YAML path).
enum DecodeBenchmark {
    static func run(_ arguments: [String]) throws {
        let sizes = (option("sizes", in: arguments) ?? "10000,100000").split(separator: ",").compactMap { Int($0) }
        print("NovaCron decode benchmark: text → decoded → validated → planned, best of 3")
        for n in sizes {
            // "json-slow": the same JSON read through the YAML path (a leading comment keeps it off
            // the fast path): what every JSON file cost before the fast path existed.
            for format in (option("formats", in: arguments) ?? "json,json-slow,yaml").split(separator: ",").map(String.init) {
                let text = format == "json" ? json(steps: n) : format == "json-slow" ? "# slow path\n" + json(steps: n) : yaml(steps: n)
                var decodeOnly = Double.infinity, total = Double.infinity
                var stages = 0
                for _ in 0..<3 {
                    let start = ContinuousClock.now
                    let decoded = WorkflowDecoder().decode(text, file: "big.\(format)")
                    let decodedAt = ContinuousClock.now
                    guard decoded.errors.isEmpty else { throw BenchmarkError(message: "generated \(format) has errors: \(decoded.errors.prefix(3))") }
                    let document = try WorkflowLoader.load(source: text, file: "big.\(format)")
                    _ = document
                    let loadedAt = ContinuousClock.now
                    let plan = Planner().plan(document.graph)
                    let end = ContinuousClock.now
                    stages = plan.stages.count
                    decodeOnly = min(decodeOnly, (decodedAt - start).seconds)
                    // load = decode + validate; then the plan.
                    total = min(total, (loadedAt - decodedAt).seconds + (end - loadedAt).seconds)
                }
                print(
                    String(
                        format: "%-9@ %7d steps %6.1f MB  decode %7.1f ms  decode + validate + plan %7.1f ms  (%d stages)",
                        format as NSString, n, Double(text.utf8.count) / 1e6, decodeOnly * 1000, total * 1000, stages))
            }
        }
    }

    /// Step `i` of a DAG of layers of 1000: its dependencies on the layer before.
    static func dependencies(_ i: Int) -> [Int] {
        let layer = i / 1000
        guard layer > 0 else { return [] }
        let base = (layer - 1) * 1000
        let count = 1 + i % 3
        return (0..<count).map { base + (i * 7 + $0 * 331) % 1000 }
    }

    static func json(steps n: Int) -> String {
        var out = #"{"name": "big", "steps": ["# + "\n"
        out.reserveCapacity(n * 110)
        for i in 0..<n {
            let deps = dependencies(i).map { #""s\#($0)""# }.joined(separator: ", ")
            out += #"  {"id": "s\#(i)", "type": "task", "inputs": {"command": "make part-\#(i)"}, "dependencies": [\#(deps)], "timeout": "5m"}"#
            out += i + 1 < n ? ",\n" : "\n"
        }
        return out + "]}\n"
    }

    static func yaml(steps n: Int) -> String {
        var out = "name: big\nsteps:\n"
        out.reserveCapacity(n * 110)
        for i in 0..<n {
            let deps = dependencies(i).map { "s\($0)" }.joined(separator: ", ")
            out += "  - {id: s\(i), type: task, inputs: {command: make part-\(i)}, dependencies: [\(deps)], timeout: 5m}\n"
        }
        return out
    }
}
