import Foundation

/// forEach: a step that runs once per item of a list.
///
/// When a forEach step's upstreams are done and its condition holds, its list is resolved and
/// the step *expands*: each item becomes a unit numbered after the steps (and after earlier
/// expansions), with its own phase, attempts, retries and result (`<step>[<index>]`). Items enter
/// the ready queue in order, at most `maxConcurrency` at a time, with their step's priority; the
/// step ends when every item has, with an aggregated result. More failures than tolerated stop
/// the rest (queued items are cancelled, running ones stopped), like Step Functions' Map.
extension ExecutionStateMachine {
    /// The items of one expanded forEach step.
    struct Fan: Sendable {
        /// The unit of item 0; item `j` is unit `first + j`.
        var first: Int
        var count: Int
        /// Items handed to the ready queue (or found done already), in order.
        var fed = 0
        /// Most items fed and not ended at once.
        var window: Int
        var inFlight = 0
        var ended = 0
        var failed = 0
        /// Set when more items failed than tolerated: why the rest were cancelled.
        var aborted: String?
    }

    /// What `${item…}` and `${itemIndex}` read in one item.
    struct ItemContext: Sendable {
        var index: Int
        var value: JSONValue
        /// The item's result id, `<step>[<index>]`.
        var id: String

        /// The value of `reference` when it reads the item; `nil` when it reads something else.
        func value(of reference: Reference) throws -> JSONValue? {
            switch reference.head {
            case ForEach.itemName:
                guard let inner = JSONValue.descend(value, Array(reference.components.dropFirst())) else {
                    throw ResolutionError(message: "${\(reference)}: item \(index) (\(value.kindName)) has no such field")
                }
                return inner
            case ForEach.indexName:
                return .number(Double(index))
            default:
                return nil
            }
        }
    }

    /// The step a unit runs: itself, or the forEach step it is an item of.
    package func stepIndex(of unit: Int) -> Int { unit < stepCount ? unit : itemParent[unit - stepCount] }

    func itemContext(_ unit: Int) -> ItemContext? {
        guard unit >= stepCount, let fan = fans[itemParent[unit - stepCount]] else { return nil }
        return ItemContext(index: unit - fan.first, value: itemValues[unit - stepCount], id: results[unit].stepID)
    }

    /// Resolves the list of forEach step `i`, makes its items and queues the first of them.
    /// Returns true when the step ended here (a bad list, no items, or every item done already).
    mutating func expand(_ i: Int, plan: CompiledWorkflow.ForEachPlan, now: Date, actions: inout [Action]) -> Bool {
        let items: [JSONValue]
        do {
            items = try listItems(plan)
        } catch {
            end(i, status: .failed, reason: nil, error: "forEach: \(error)", now: now, actions: &actions)
            failedWithoutContinue(i, now: now, actions: &actions)
            return true
        }
        let first = phase.count, count = items.count, id = results[i].stepID
        phase[i] = .expanded
        results[i].status = .running
        results[i].itemCount = count
        if results[i].startedAt == nil { results[i].startedAt = now }
        actions.append(.stepExpanded(step: i))
        phase.append(contentsOf: repeatElement(.waiting, count: count))
        queuedAt.append(contentsOf: repeatElement(nil, count: count))
        results.reserveCapacity(results.count + count)
        for j in 0..<count { results.append(StepResult(stepID: StepResult.itemID(of: id, index: j))) }
        itemParent.append(contentsOf: repeatElement(i, count: count))
        itemValues.append(contentsOf: items)
        readyQueue.extend(count: count, priority: compiled.priorities[i], exclusive: compiled.exclusive[i])
        var fan = Fan(first: first, count: count, window: max(1, min(plan.maxConcurrency ?? Int.max, readyQueue.limit)))
        // Items a crashed process (or an earlier execution) finished are taken as they are, when
        // the list comes from the same upstream results (none of them ran again).
        let saved = reusedItems.removeValue(forKey: i) ?? [:]
        let sameList = compiled.graph.upstream[i].allSatisfy { reusedSteps.contains($0) }
        for (j, saved) in sameList ? saved : [:] where j < count {
            let u = first + j
            if saved.status.isTerminal {
                results[u] = saved
                phase[u] = .done
                fan.ended += 1
                if saved.status == .failed { fan.failed += 1 }
            } else {
                results[u].attempts = saved.attempts
                results[u].startedAt = saved.startedAt
                results[u].childExecutionID = saved.childExecutionID
            }
        }
        fans[i] = fan
        // Items ending in here leave ending the step to this function (its caller releases the downstreams).
        expanding = i
        if exceedsTolerance(i) { abortFan(i, now: now, actions: &actions) }
        expanding = nil
        feed(i, now: now)
        guard fans[i]?.ended == count, phase[i] == .expanded else { return false }
        finishFan(i, now: now, actions: &actions)
        return true
    }

    /// The forEach list: a list, or text holding a JSON list (a shell step's output).
    func listItems(_ plan: CompiledWorkflow.ForEachPlan) throws -> [JSONValue] {
        var value = try plan.items.render { try self.resolve($0, forCondition: false) }
        if case .string(let text) = value, text.first == "[",
            let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        {
            value = parsed
        }
        guard case .array(let items) = value else {
            throw ResolutionError(message: "\(plan.source) is \(value.kindName == "null" ? "null" : "a \(value.kindName)"), not a list")
        }
        guard items.count <= ForEach.maximumItems else {
            throw ResolutionError(message: "\(plan.source) has \(items.count) items, more than the limit of \(ForEach.maximumItems)")
        }
        return items
    }

    /// Queues the next items of forEach step `i` while its window allows.
    mutating func feed(_ i: Int, now: Date) {
        guard var fan = fans[i] else { return }
        while fan.inFlight < fan.window, fan.fed < fan.count, fan.aborted == nil, stopping == nil {
            let u = fan.first + fan.fed
            fan.fed += 1
            guard phase[u] == .waiting else { continue }
            fan.inFlight += 1
            phase[u] = .queued
            queuedAt[u] = now
            readyQueue.add(u)
        }
        fans[i] = fan
    }

    /// Item unit `u` ended: count it, give up on the rest if too many failed, queue the next, and
    /// end the step with its last item.
    mutating func itemEnded(_ u: Int, now: Date, actions: inout [Action]) {
        let i = itemParent[u - stepCount]
        guard var fan = fans[i] else { return }
        fan.ended += 1
        if u - fan.first < fan.fed { fan.inFlight -= 1 }
        if results[u].status == .failed { fan.failed += 1 }
        fans[i] = fan
        if fan.aborted == nil, stopping == nil, exceedsTolerance(i) { abortFan(i, now: now, actions: &actions) }
        feed(i, now: now)
        guard fans[i]?.ended == fan.count, phase[i] == .expanded, expanding != i else { return }
        finishFan(i, now: now, actions: &actions)
        releaseDownstream(of: i, now: now, actions: &actions)
    }

    /// Why unit `i` must not start again: its forEach gave up on its items; nil for steps.
    func gaveUp(_ i: Int) -> String? {
        guard i >= stepCount else { return nil }
        return fans[itemParent[i - stepCount]]?.aborted
    }

    func exceedsTolerance(_ i: Int) -> Bool {
        guard let fan = fans[i], let plan = compiled.forEach[i] else { return false }
        return ForEach.exceeds(
            failed: fan.failed, of: fan.count, toleratedFailures: plan.toleratedFailures, toleratedPercentage: plan.toleratedFailurePercentage)
    }

    /// More items of `i` failed than it tolerates: the rest are cancelled, running ones stopped.
    mutating func abortFan(_ i: Int, now: Date, actions: inout [Action]) {
        guard let fan = fans[i], let plan = compiled.forEach[i] else { return }
        let reason = "\(fan.failed) of \(fan.count) items failed, \(toleranceText(plan))"
        fans[i]?.aborted = reason
        var running: [Int] = []
        for u in fan.first..<(fan.first + fan.count) {
            switch phase[u] {
            case .waiting, .queued, .retryQueued:
                end(u, status: .cancelled, reason: nil, error: "not started: \(reason)", now: now, actions: &actions)
            case .retryWait:
                retryWaits -= 1
                end(u, status: .cancelled, reason: nil, error: "not retried: \(reason)", now: now, actions: &actions)
            case .running:
                running.append(u)
            case .suspended:
                end(u, status: .cancelled, reason: nil, error: "stopped waiting: \(reason)", now: now, actions: &actions)
            case .expanded, .done:
                break
            }
        }
        if !running.isEmpty { actions.append(.cancelAttempts(running)) }
        // With failFast the step's failure is certain now: the rest of the execution stops too.
        if compiled.workflow.failFast, stopping == nil, !compiled.workflow.steps[i].continueOnFailure {
            failedWithoutContinue(i, now: now, actions: &actions)
        }
    }

    func toleranceText(_ plan: CompiledWorkflow.ForEachPlan) -> String {
        var parts: [String] = []
        if let n = plan.toleratedFailures { parts.append("\(n) tolerated") }
        if let p = plan.toleratedFailurePercentage { parts.append("\(JSONValue.format(p))% tolerated") }
        return parts.isEmpty ? "none tolerated" : parts.joined(separator: ", ")
    }

    /// Every item of `i` ended: its result lists theirs, and it fails when more failed than tolerated.
    mutating func finishFan(_ i: Int, now: Date, actions: inout [Action]) {
        guard let fan = fans[i] else { return }
        var list: [JSONValue] = []
        list.reserveCapacity(fan.count)
        var cancelled = 0
        var firstFailure: StepResult?
        for u in fan.first..<(fan.first + fan.count) {
            let r = results[u]
            switch r.status {
            case .success:
                list.append(.object(r.outputs))
            default:
                if r.status == .cancelled { cancelled += 1 }
                if r.status == .failed, firstFailure == nil { firstFailure = r }
                list.append(.object(["status": .string(r.status.rawValue), "error": r.error.map(JSONValue.string) ?? .null]))
            }
        }
        results[i].outputs = [
            ForEach.resultsOutput: .array(list), ForEach.itemCountOutput: .number(Double(fan.count)),
            ForEach.failedItemsOutput: .number(Double(fan.failed)),
        ]
        let failure = firstFailure.map { "; first: \($0.stepID)\($0.error.map { ": \($0)" } ?? "")" } ?? ""
        if exceedsTolerance(i) {
            let plan = compiled.forEach[i]
            let why = fan.aborted ?? "\(fan.failed) of \(fan.count) items failed, \(plan.map(toleranceText) ?? "none tolerated")"
            end(i, status: .failed, reason: nil, error: why + failure, now: now, actions: &actions)
            failedWithoutContinue(i, now: now, actions: &actions)
        } else if cancelled > 0 {
            let why = stopping.map { "cancelled: \($0.reason)" } ?? "\(cancelled) of \(fan.count) items were cancelled"
            end(i, status: .cancelled, reason: nil, error: why, now: now, actions: &actions)
            if stopping == nil, failedStep == nil { failedStep = i }
        } else {
            results[i].error = nil
            end(i, status: .success, reason: nil, error: nil, now: now, actions: &actions)
        }
    }
}
