import Foundation
import Orchestration
import Testing

/// The stores write an execution's own row with ``ExecutionRecord/storedHeaderJSON()`` instead of
/// `JSONEncoder`, and read it back with `JSONDecoder`. Random records (seeded, the seed in every
/// failure) must come back equal to the header; and no stored property may be left out, now or
/// when one is added to a type later (read off the types themselves with `Mirror`).
@Suite("Execution records as the stores keep them")
struct ExecutionRecordJSONTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_205

    static func record(_ rng: inout SplitMix64, full: Bool = false) -> ExecutionRecord {
        func maybe<T>(_ make: (inout SplitMix64) -> T) -> T? { full || Bool.random(using: &rng) ? make(&rng) : nil }
        func text(_ rng: inout SplitMix64) -> String { StepResultJSONTests.string(&rng) }
        func date(_ rng: inout SplitMix64) -> Date { Date(timeIntervalSinceReferenceDate: StepResultJSONTests.number(&rng)) }
        func values(_ rng: inout SplitMix64) -> [String: JSONValue] {
            Dictionary((0..<Int.random(in: 0...4, using: &rng)).map { _ in (text(&rng), StepResultJSONTests.value(&rng)) }) { a, _ in a }
        }
        func duration(_ rng: inout SplitMix64) -> Duration {
            .init(
                secondsComponent: Int64.random(in: Int64.min / 2...Int64.max / 2, using: &rng),
                attosecondsComponent: Int64.random(in: 0..<1_000_000_000_000_000_000, using: &rng))
        }
        func parent(_ rng: inout SplitMix64) -> ParentLink {
            ParentLink(executionID: text(&rng), stepID: text(&rng), depth: Int.random(in: Int.min...Int.max, using: &rng))
        }
        let metrics = ExecutionMetrics(
            stepCount: Int.random(in: 0...Int.max, using: &rng), successfulSteps: Int.random(in: Int.min...Int.max, using: &rng),
            failedSteps: Int.random(in: 0...9, using: &rng), skippedSteps: Int.random(in: 0...9, using: &rng),
            retryCount: Int.random(in: 0...9, using: &rng), cacheHits: Int.random(in: 0...9, using: &rng), totalDuration: duration(&rng),
            criticalPathDuration: duration(&rng), optimizationGains: StepResultJSONTests.number(&rng))
        var execution = WorkflowExecution(
            id: text(&rng), workflowID: text(&rng), workflowVersion: maybe(text), status: ExecutionStatus.allCases.randomElement(using: &rng)!,
            inputs: values(&rng), currentStep: maybe(text), metrics: metrics, error: maybe(text), startedAt: maybe(date), finishedAt: maybe(date))
        execution.estimatedCompletion = maybe(date)
        execution.debug = maybe { Bool.random(using: &$0) }
        execution.pausedBefore = maybe(text)
        execution.parent = maybe(parent)
        execution.concurrencyKey = maybe(text)
        execution.outputs = maybe(values)
        var options = StoredOptions(
            maxParallelism: maybe { Int.random(in: 1...1000, using: &$0) }, debug: Bool.random(using: &rng), paused: Bool.random(using: &rng),
            trigger: StepResultJSONTests.value(&rng))
        options.parent = maybe(parent)
        options.trace = maybe { rng in
            let ids = (0..<3).map { _ in String(rng.next() | 1, radix: 16) }
            let parent =
                "00-" + String(repeating: "0", count: 32 - ids[0].count - ids[1].count) + ids[0] + ids[1] + "-"
                + String(repeating: "0", count: 16 - ids[2].count) + ids[2] + "-01"
            return TraceHeaders(traceparent: parent, tracestate: Bool.random(using: &rng) ? "vendor=\(ids[2])" : nil)!
        }
        return ExecutionRecord(execution: execution, workflowHash: text(&rng), options: options, createdAt: date(&rng), owner: maybe(text))
    }

    @Test("random records read back equal to their header, and equal to what JSONEncoder's text of it reads back to")
    func roundTrip() throws {
        var rng = SplitMix64(seed: Self.seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let decoder = JSONDecoder()
        for round in 0..<2000 {
            var record = Self.record(&rng)
            record.execution.stepResults = ["s": StepResult(stepID: "s", status: .success)]
            let context = Comment(rawValue: "seed \(Self.seed), record \(round)")
            let back = try decoder.decode(ExecutionRecord.self, from: Data(try record.storedHeaderJSON().utf8))
            var header = record
            header.execution.stepResults = [:]
            #expect(back == header, context)
            #expect(back == (try decoder.decode(ExecutionRecord.self, from: encoder.encode(header))), context)
        }
    }

    @Test("every stored property of the record and of the types in it is written when set")
    func noPropertyLeftOut() throws {
        var rng = SplitMix64(seed: Self.seed &+ 1)
        let record = Self.record(&rng, full: true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try record.storedHeaderJSON().utf8)) as? [String: Any])
        func labels(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label).sorted() }
        func keys(_ value: Any?) -> [String] { ((value as? [String: Any]) ?? [:]).keys.sorted() }
        #expect(keys(object) == labels(record))
        let execution = object["execution"] as? [String: Any]
        #expect(keys(execution) == labels(record.execution))
        #expect(keys(execution?["metrics"]) == labels(record.execution.metrics))
        #expect(keys(execution?["parent"]) == labels(try #require(record.execution.parent)))
        let options = object["options"] as? [String: Any]
        #expect(keys(options) == labels(record.options))
        #expect(keys(options?["parent"]) == labels(try #require(record.options.parent)))
        #expect(keys(options?["trace"]) == labels(try #require(record.options.trace)))
    }

    @Test("a record JSONEncoder refuses (a number that is not finite) is refused the same way")
    func refusesWhatJSONEncoderRefuses() {
        var rng = SplitMix64(seed: Self.seed &+ 2)
        var record = Self.record(&rng)
        record.execution.metrics.optimizationGains = .nan
        #expect(throws: EncodingError.self) { try record.storedHeaderJSON() }
        record.execution.metrics.optimizationGains = 1
        record.options.trigger = .object(["x": .number(.infinity)])
        #expect(throws: EncodingError.self) { try record.storedHeaderJSON() }
        record.options.trigger = .null
        record.createdAt = Date(timeIntervalSinceReferenceDate: -.infinity)
        #expect(throws: EncodingError.self) { try record.storedHeaderJSON() }
    }
}
