import Foundation
import Orchestration
import OrchestrationExecutors
import OrchestrationSQLite
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// No-op workflows through the real engine: throughput, scheduling latency, peak memory.
enum EngineBenchmark {
    static let allShapes = ["chain", "fanout", "diamond", "random", "foreach"]

    /// Runs every shape × size in a child process and prints its JSON line.
    static func all(_ arguments: [String]) throws {
        let sizes = (option("sizes", in: arguments) ?? "100,1000,10000,100000").split(separator: ",").compactMap { Int($0) }
        let shapes = (option("shapes", in: arguments) ?? allShapes.joined(separator: ",")).split(separator: ",").map(String.init)
        let store = option("store", in: arguments) ?? "none"
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for size in sizes {
            for shape in shapes {
                let process = Process()
                process.executableURL = me
                process.arguments = ["run-one", "--shape", shape, "--steps", String(size), "--store", store]
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw BenchmarkError(message: "\(shape) × \(size) failed with status \(process.terminationStatus)")
                }
                FileHandle.standardOutput.write(data)
            }
        }
    }

    /// One shape and size in this process.
    static func one(_ arguments: [String]) async throws {
        let shape = option("shape", in: arguments) ?? "chain"
        let n = option("steps", in: arguments).flatMap(Int.init) ?? 10_000
        let workflow = try generate(shape: shape, steps: n)
        let recorder = Recorder(count: n)
        var executors = ExecutorRegistry.standard()
        executors.register(RecordingNoop(recorder: recorder), forAction: "noop")
        let storeKind = option("store", in: arguments) ?? "none"
        let store: (any Store)?
        // A SQLite store's file is removed when the run ends, however it ends.
        var databasePath: String?
        defer { databasePath.map(DurableBenchmark.removeDatabase) }
        switch storeKind {
        case "none": store = nil
        case "memory": store = InMemoryStore()
        case "sqlite", "sqlite-full":
            let path = DurableBenchmark.temporaryPath("engine")
            databasePath = path
            store = try SQLiteStore(path: path, durability: storeKind == "sqlite" ? .processCrash : .powerLoss)
        default: throw BenchmarkError(message: "--store: none, memory, sqlite or sqlite-full")
        }
        let rssBefore = peakRSS()
        let commits = Mutex(0)
        let result = try await WorkflowEngine.withEngine(executors: executors, store: store) { engine in
            defer { commits.withLock { $0 = engine.storeCommits } }
            let registerStart = ContinuousClock.now
            try await engine.registerWorkflow(workflow)
            let registered = ContinuousClock.now - registerStart
            recorder.origin = .now
            let start = ContinuousClock.now
            let started = try await engine.executeWorkflow(workflow.id)
            let final = try await engine.waitForExecution(started.id)
            let elapsed = ContinuousClock.now - start
            return (final, registered, elapsed)
        }
        let (final, registered, elapsed) = result
        guard final.status == .completed else { throw BenchmarkError(message: "\(shape): execution \(final.status.rawValue)") }
        let latencies = recorder.latencies(workflow: workflow)
        let object: [String: Any] = [
            "benchmark": "engine-noop", "shape": shape, "steps": n, "store": storeKind,
            "storeCommits": commits.withLock { $0 },
            "edges": workflow.steps.reduce(0) { $0 + $1.dependencies.count },
            "registerMs": round(registered.seconds * 1000 * 10) / 10,
            "runMs": round(elapsed.seconds * 1000 * 10) / 10,
            "stepsPerSecond": Int(Double(n) / elapsed.seconds),
            "schedulingLatencyUs": [
                "p50": percentile(latencies, 0.50), "p90": percentile(latencies, 0.90),
                "p99": percentile(latencies, 0.99), "max": latencies.last ?? 0,
            ],
            "peakRSSMB": peakRSS() / (1 << 20), "rssBeforeRunMB": rssBefore / (1 << 20),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let v = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        return (v * 10).rounded() / 10
    }

    /// The DAG shapes, all of `noop` steps.
    static func generate(shape: String, steps n: Int) throws -> Workflow {
        var rng = SplitMix64(seed: 42)
        var steps: [WorkflowStep] = []
        steps.reserveCapacity(n)
        func step(_ i: Int, _ deps: [Int]) -> WorkflowStep {
            WorkflowStep(id: "s\(i)", action: "noop", dependencies: deps.map { "s\($0)" })
        }
        switch shape {
        case "chain":
            for i in 0..<n { steps.append(step(i, i == 0 ? [] : [i - 1])) }
        case "fanout":
            // One root, n-2 parallel steps, one step joining them all.
            steps.append(step(0, []))
            for i in 1..<max(1, n - 1) { steps.append(step(i, [0])) }
            if n > 1 { steps.append(step(n - 1, Array(1..<max(1, n - 1)))) }
        case "diamond":
            // Square layers (√n wide), each step after 3 random steps of the layer before.
            let width = max(2, Int(Double(n).squareRoot()))
            for i in 0..<n {
                let layer = i / width
                if layer == 0 {
                    steps.append(step(i, []))
                    continue
                }
                let base = (layer - 1) * width
                let deps = Set((0..<3).map { _ in base + Int(rng.next() % UInt64(width)) })
                steps.append(step(i, deps.sorted()))
            }
        case "random":
            // Each step after up to 3 random steps among the 1,000 before it.
            for i in 0..<n {
                if i == 0 {
                    steps.append(step(0, []))
                    continue
                }
                let window = min(i, 1000)
                let k = Int(rng.next() % 4)
                let deps = Set((0..<k).map { _ in i - 1 - Int(rng.next() % UInt64(window)) })
                steps.append(step(i, deps.sorted()))
            }
        case "foreach":
            // A root, one forEach step over n - 2 items (each item a run, as a step is), a join:
            // n runs in all, as the other shapes have n steps.
            steps.append(step(0, []))
            var fan = step(1, [0])
            fan.forEach = .array((0..<max(0, n - 2)).map { .number(Double($0)) })
            steps.append(fan)
            steps.append(step(2, [1]))
        default:
            throw BenchmarkError(message: "unknown shape '\(shape)'; shapes: \(allShapes.joined(separator: ", "))")
        }
        return Workflow(name: "bench-\(shape)-\(n)", steps: steps)
    }
}

/// Start and end instants of every step, as nanoseconds since `origin`.
final class Recorder: Sendable {
    let times: Mutex<(start: [UInt64], end: [UInt64])>
    let originBox = Mutex<ContinuousClock.Instant>(.now)

    init(count: Int) {
        times = Mutex((Array(repeating: 0, count: count), Array(repeating: 0, count: count)))
    }

    var origin: ContinuousClock.Instant {
        get { originBox.withLock { $0 } }
        set { originBox.withLock { $0 = newValue } }
    }

    func record(step: Int, start: ContinuousClock.Instant, end: ContinuousClock.Instant) {
        let o = origin
        let s = UInt64((start - o).seconds * 1e9), e = UInt64((end - o).seconds * 1e9)
        times.withLock {
            $0.start[step] = s
            $0.end[step] = e
        }
    }

    /// Dependency done → dependent started, in microseconds, sorted.
    func latencies(workflow: Workflow) -> [Double] {
        let (start, end) = times.withLock { ($0.start, $0.end) }
        var out: [Double] = []
        out.reserveCapacity(workflow.steps.count)
        for (i, step) in workflow.steps.enumerated() where !step.dependencies.isEmpty {
            let ready = step.dependencies.map { end[Int($0.dropFirst())!] }.max()!
            out.append(start[i] >= ready ? Double(start[i] - ready) / 1000 : 0)
        }
        return out.sorted()
    }
}

/// The no-op executor, recording when each step ran.
struct RecordingNoop: StepExecutor {
    let recorder: Recorder
    func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let start = ContinuousClock.now
        // Steps are `s<index>`; forEach items (`s1[7]`) are not steps of the workflow's own.
        if let index = Int(request.stepID.dropFirst()) { recorder.record(step: index, start: start, end: .now) }
        return .success()
    }
}

/// Peak resident memory of this process, in bytes.
func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
