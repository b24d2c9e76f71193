import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("forEach in the state machine")
struct ForEachStateMachineTests {
    static let files = """
        name: w
        variables: {files: [a.txt, b.txt, c.txt, d.txt]}
        steps:
          - id: convert
            forEach: ${files}
            maxConcurrency: 2
            inputs: {path: "${item}", index: "${itemIndex}"}
          - id: report
            dependencies: [convert]
            inputs: {all: "${convert.results}", count: "${convert.itemCount}", failed: "${convert.failedItems}"}
        """

    @Test("each item runs with ${item} and ${itemIndex}, at most maxConcurrency at once, in item order")
    func itemsRunInOrderWithinTheWindow() throws {
        var m = try machine(Self.files)
        let first = m.start(now: t0)
        #expect(first.started(m) == ["convert[0]", "convert[1]"])
        #expect(first.requests.map { $0.inputs["path"] } == [.string("a.txt"), .string("b.txt")])
        #expect(first.requests.map { $0.inputs["index"] } == [.number(0), .number(1)])
        #expect(first.requests.map(\.idempotencyKey) == ["e1/convert[0]", "e1/convert[1]"])
        #expect(m.result("convert").status == .running)
        #expect(m.result("convert").itemCount == 4)
        #expect(m.finish("convert[1]", .success(outputs: ["out": "b.pdf"])).started(m) == ["convert[2]"])
        #expect(m.finish("convert[0]", .success(outputs: ["out": "a.pdf"])).started(m) == ["convert[3]"])
        #expect(m.finish("convert[3]", .success(outputs: ["out": "d.pdf"])).started(m).isEmpty)
        let last = m.finish("convert[2]", .success(outputs: ["out": "c.pdf"]))
        #expect(m.result("convert").status == .success)
        let report = try #require(last.requests.first)
        #expect(report.stepID == "report")
        #expect(
            report.inputs["all"] == .array([["out": "a.pdf"], ["out": "b.pdf"], ["out": "c.pdf"], ["out": "d.pdf"]]),
            "results are in item order, not completion order")
        #expect(report.inputs["count"] == .number(4))
        #expect(report.inputs["failed"] == .number(0))
        #expect(m.finish("report").finish == .completed)
        #expect(m.metrics().stepCount == 2, "items are not counted as steps")
        #expect(m.snapshot().stepResults["convert[2]"]?.outputs == ["out": "c.pdf"])
    }

    @Test("without a tolerance the first failure cancels the queued items and stops the running ones")
    func firstFailureStopsTheRest() throws {
        var m = try machine(Self.files)
        _ = m.start(now: t0)
        let actions = m.finish("convert[0]", .failure("exit code 3", exitCode: 3))
        #expect(actions.cancelled.map(m.id) == ["convert[1]"])
        #expect(m.result("convert[2]").status == .cancelled)
        #expect(m.result("convert[2]").error == "not started: 1 of 4 items failed, none tolerated")
        let end = m.finish("convert[1]", .cancelled())
        #expect(end.finish == .failed)
        #expect(m.result("convert").status == .failed)
        #expect(m.result("convert").error == "1 of 4 items failed, none tolerated; first: convert[0]: exit code 3")
        #expect(m.result("report").status == .skipped)
        let results = m.result("convert").outputs["results"]
        #expect(JSONValue.descend(results ?? .null, [.index(0), .key("status")]) == .string("failed"))
        #expect(JSONValue.descend(results ?? .null, [.index(3), .key("status")]) == .string("cancelled"))
    }

    @Test("tolerated failures leave the step successful, with the failed items in its results")
    func toleratedFailures() throws {
        var m = try machine(Self.files.replacingOccurrences(of: "maxConcurrency: 2", with: "toleratedFailures: 1"))
        let first = m.start(now: t0)
        #expect(first.started(m).count == 4)
        _ = m.finish("convert[1]", .failure("boom"))
        _ = m.finish("convert[0]")
        _ = m.finish("convert[2]")
        let last = m.finish("convert[3]")
        #expect(m.result("convert").status == .success)
        #expect(last.requests.first?.inputs["failed"] == .number(1))
        #expect(
            JSONValue.descend(m.result("convert").outputs["results"] ?? .null, [.index(1)]) == .object(["status": "failed", "error": "boom"]))
    }

    @Test("toleratedFailurePercentage: 25% of 4 items tolerates one failure, not two")
    func toleratedPercentage() throws {
        var m = try machine(Self.files.replacingOccurrences(of: "maxConcurrency: 2", with: "toleratedFailurePercentage: 25"))
        _ = m.start(now: t0)
        #expect(m.finish("convert[0]", .failure("one")).cancelled.isEmpty)
        let second = m.finish("convert[1]", .failure("two"))
        #expect(second.cancelled.map(m.id).sorted() == ["convert[2]", "convert[3]"])
        _ = m.finish("convert[2]", .cancelled())
        #expect(m.finish("convert[3]", .cancelled()).finish == .failed)
        #expect(m.result("convert").error?.hasPrefix("2 of 4 items failed, 25% tolerated") == true)
    }

    @Test("an item's retries are its own; the others go on meanwhile")
    func itemRetries() throws {
        var m = try machine(
            """
            name: w
            steps:
              - id: ping
                forEach: [h1, h2]
                retryPolicy: {maxAttempts: 2, initialDelay: 1s, jitter: none}
                inputs: {host: "${item}"}
            """)
        _ = m.start(now: t0)
        let failed = m.finish("ping[0]", .failure("unreachable"))
        #expect(failed.retries.map { m.id($0.step) } == ["ping[0]"])
        #expect(failed.retries.first?.attempt == 2)
        _ = m.finish("ping[1]")
        let retry = m.retryDue(step: m.index("ping[0]"), now: t0.addingTimeInterval(3))
        #expect(retry.requests.map(\.attempt) == [2])
        #expect(m.finish("ping[0]", at: 4).finish == .completed)
        #expect(m.result("ping[0]").attempts == 2)
        #expect(m.result("ping[1]").attempts == 1)
    }

    @Test("an empty list succeeds at once with no results; a JSON list written as text is read as a list")
    func emptyAndTextLists() throws {
        var m = try machine(
            """
            name: w
            variables: {none: [], text: '["x", "y"]'}
            steps:
              - {id: a, forEach: "${none}", inputs: {v: "${item}"}}
              - {id: b, forEach: "${text}", inputs: {v: "${item}"}}
            """)
        let first = m.start(now: t0)
        #expect(m.result("a").status == .success)
        #expect(m.result("a").outputs["results"] == .array([]))
        #expect(m.result("a").outputs["itemCount"] == .number(0))
        #expect(first.requests.map { $0.inputs["v"] } == [.string("x"), .string("y")])
    }

    @Test("a forEach that does not give a list fails the step, saying what it got")
    func notAList() throws {
        var m = try machine(
            """
            name: w
            variables: {one: "just text"}
            steps:
              - {id: a, forEach: "${one}", inputs: {v: "${item}"}}
            """)
        #expect(m.start(now: t0).finish == .failed)
        #expect(m.result("a").error == "forEach: ${one} is a string, not a list")
    }

    @Test("more than 10,000 items fail the step instead of expanding")
    func tooManyItems() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, forEach: "${many}", inputs: {v: "${item}"}}
            """, inputs: ["many": .array(Array(repeating: .number(1), count: ForEach.maximumItems + 1))])
        #expect(m.start(now: t0).finish == .failed)
        #expect(m.result("a").error == "forEach: ${many} has 10001 items, more than the limit of 10000")
    }

    @Test("items saved before a crash are not run again; one saved as running runs as its next attempt")
    func reuseAfterCrash() throws {
        var done = StepResult(stepID: "convert[0]", status: .success, outputs: ["out": "a.pdf"], attempts: 1)
        done.finishedAt = t0
        let running = StepResult(stepID: "convert[1]", status: .running, attempts: 1)
        var m = try machine(Self.files, reuse: ["convert[0]": done, "convert[1]": running])
        let first = m.start(now: t0)
        #expect(first.started(m) == ["convert[1]", "convert[2]"])
        #expect(first.requests.map(\.attempt) == [2, 1])
        _ = m.finish("convert[1]")
        _ = m.finish("convert[2]")
        _ = m.finish("convert[3]")
        #expect(m.result("convert").outputs["results"].flatMap { JSONValue.descend($0, [.index(0), .key("out")]) } == .string("a.pdf"))
    }

    @Test("cancelling the execution cancels the items not started and stops the running ones")
    func cancelMidway() throws {
        var m = try machine(Self.files)
        _ = m.start(now: t0)
        let actions = m.cancel(reason: "by hand", now: t0)
        #expect(actions.cancelled.map(m.id).sorted() == ["convert[0]", "convert[1]"])
        #expect(m.result("convert[3]").status == .cancelled)
        _ = m.finish("convert[0]", .cancelled())
        #expect(m.finish("convert[1]", .cancelled()).finish == .cancelled)
        #expect(m.result("convert").status == .cancelled)
        #expect(m.result("report").status == .cancelled)
    }

    @Test("a failing forEach step with continueOnFailure does not fail the execution")
    func continueOnFailure() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, forEach: [1, 2], continueOnFailure: true, inputs: {v: "${item}"}}
              - {id: b, inputs: {v: x}}
            """)
        _ = m.start(now: t0)
        _ = m.finish("a[0]", .failure("no"))
        _ = m.finish("a[1]", .cancelled())
        #expect(m.finish("b").finish == .completed)
        #expect(m.result("a").status == .failed)
    }

    @Test("an item whose failure arrives after its forEach gave up is not retried")
    func noRetryAfterGivingUp() throws {
        var m = try machine(
            Self.files.replacingOccurrences(of: "maxConcurrency: 2", with: "maxConcurrency: 2\n    retryPolicy: {maxAttempts: 2, jitter: none}"))
        _ = m.start(now: t0)
        let first = m.finish("convert[0]", .failure("one"))
        _ = m.retryDue(step: first.retries[0].step, now: t0.addingTimeInterval(5))
        let gaveUp = m.finish("convert[0]", .failure("again"), at: 6)
        #expect(gaveUp.cancelled.map(m.id) == ["convert[1]"])
        // convert[1] failed before the stop reached it: it ends failed, without a retry.
        let late = m.finish("convert[1]", .failure("late"), at: 7)
        #expect(late.retries.isEmpty)
        #expect(late.finish == .failed)
        #expect(m.result("convert[1]").status == .failed)
        #expect(m.result("convert").error?.hasPrefix("1 of 4 items failed") == true, "\(m.result("convert").error ?? "")")
    }

    @Test("debug mode: when the item it paused before is cancelled, resuming pauses before the next step instead of running it")
    func debugPauseOnCancelledItem() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: fan, forEach: [a, b], inputs: {v: "${item}"}}
              - {id: x, condition: "${fan.status} == 'failed'", inputs: {v: x}}
            """, debug: true)
        #expect(m.start(now: t0).started(m).isEmpty)
        #expect(m.resume(now: t0).started(m) == ["fan[0]"])
        #expect(m.snapshot().pausedBefore == "fan[1]")
        _ = m.finish("fan[0]", .failure("no"))
        #expect(m.result("fan[1]").status == .cancelled)
        let resumed = m.resume(now: t0.addingTimeInterval(2))
        #expect(resumed.started(m).isEmpty, "x must not run unannounced")
        #expect(m.snapshot().pausedBefore == "x")
    }

    @Test("the ETA counts a forEach step's estimate once, for the share of its items not ended")
    func etaCountsTheStepOnce() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: fan, forEach: "${many}", estimatedDuration: 100s, inputs: {v: "${item}"}}
            """, limit: 8, inputs: ["many": .array((0..<100).map { .number(Double($0)) })])
        _ = m.start(now: t0)
        #expect(m.remainingSeconds(now: t0) == 100)
        for i in 0..<50 { _ = m.finish("fan[\(i)]") }
        #expect(m.remainingSeconds(now: t0) == 50)
    }

    @Test("a retry whose upstream runs again takes none of the saved items: the list may differ")
    func reuseOnlyWithTheSameList() throws {
        let yaml = """
            name: w
            steps:
              - {id: list, inputs: {v: x}}
              - {id: fan, forEach: "${list.files}", inputs: {v: "${item}"}}
            """
        let saved = StepResult(stepID: "fan[0]", status: .success, outputs: ["old": true], attempts: 1)
        var rerun = try machine(yaml, reuse: ["fan[0]": saved])
        _ = rerun.start(now: t0)
        #expect(rerun.finish("list", .success(outputs: ["files": ["p", "q"]])).started(rerun) == ["fan[0]", "fan[1]"])
        let listDone = StepResult(stepID: "list", status: .success, outputs: ["files": ["p", "q"]], attempts: 1)
        var resumed = try machine(yaml, reuse: ["list": listDone, "fan[0]": saved])
        #expect(resumed.start(now: t0).started(resumed) == ["fan[1]"])
    }

    @Test("a condition that cannot be evaluated fails the execution, not only its step")
    func conditionErrorFailsTheExecution() throws {
        var m = try machine(
            """
            name: w
            steps:
              - {id: a, inputs: {v: x}}
              - {id: b, condition: "${a.count} > 2", inputs: {v: x}}
            """)
        _ = m.start(now: t0)
        #expect(m.finish("a", .success(outputs: ["count": "many"])).finish == .failed)
        #expect(m.result("b").error?.hasPrefix("condition: ") == true)
    }
}
