import Foundation

/// `swift run -c release novacron-bench [engine|plan|shell] …`
///
/// - `engine [--sizes 100,1000,10000,100000] [--shapes chain,fanout,diamond,random]`: no-op
///   workflows through the real engine, each size and shape in a fresh process (so peak RSS is
///   its own); one JSON line per run.
/// - `shell [--steps 200]`: shell steps through the engine against a bare fork/exec of the same
///   program; one JSON line.
/// - `plan [steps]`: validation, planning and YAML decoding times.
/// - `triggers [--events N] [--publishers P] [--deliveries D]`: event bus throughput on SQLite and
///   webhook-to-first-step latency through the server.
/// - `learning [--seeds N] [--runs R]`: precision and recall of the learning engine's suggestions
///   against planted problems in simulated workloads, and simulation speed.
/// - `export [steps]`: exporting generated workflows to each cloud target.
/// - `decode [--sizes 10000,100000]`: a large layered DAG from JSON and YAML text to a plan.
/// - `durable [--steps 3000] [--rounds 3]`: SQLite's own commit rate with the store's settings
///   beside the no-op steps per second of a chain on the SQLite store, and their ratio.
/// - `cluster --database-url URL [--nodes 1,2,3] [--steps 3000] [--lease 2s]`: durable no-op steps
///   through nodes sharing PostgreSQL, and failover time (`scripts/bench-cluster` runs it).
@main
struct Benchmark {
    static func main() async {
        do { try await dispatch() } catch {
            FileHandle.standardError.write(Data("novacron-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func dispatch() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let command = arguments.first.map { $0.hasPrefix("-") ? "engine" : $0 } ?? "engine"
        if !arguments.isEmpty, !arguments[0].hasPrefix("-") { arguments.removeFirst() }
        switch command {
        case "engine": try EngineBenchmark.all(arguments)
        case "run-one": try await EngineBenchmark.one(arguments)
        case "shell": try await ShellBenchmark.run(arguments)
        case "plan": try PlanBenchmark.run(arguments)
        case "triggers": try await TriggerBenchmark.run(arguments)
        case "learning": try await LearningBenchmark.run(arguments)
        case "export": try ExportBenchmark.run(arguments)
        case "decode": try DecodeBenchmark.run(arguments)
        case "cluster": try await ClusterBenchmark.run(arguments)
        case "durable": try await DurableBenchmark.run(arguments)
        default:
            FileHandle.standardError.write(
                Data("usage: novacron-bench [engine|shell|plan|triggers|learning|export|decode|cluster|durable] [options]\n".utf8))
            exit(2)
        }
    }
}

/// `--name value` from an argument list.
func option(_ name: String, in arguments: [String]) -> String? {
    guard let i = arguments.firstIndex(of: "--\(name)"), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

/// Prints `object` as one JSON line with sorted keys: a benchmark's result.
func emit(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}

struct BenchmarkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
