import HeapModule

/// The engine's rule for which ready step starts next — one rule for the state machine that runs
/// executions and for the planner's estimate, so a plan cannot disagree with what the engine does.
///
/// Ready steps start by priority (the longest estimated remaining path: critical path first) or in
/// the order they became ready (first come, first served), at most `limit` at once; an exclusive
/// step (`parallel: false`) starts only when nothing runs, and nothing starts beside it. Ties go to
/// the step defined first.
///
/// ```swift
/// var queue = ReadyQueue(priorities: compiled.priorities, exclusive: compiled.exclusive, limit: 4)
/// queue.add(0)
/// if let step = queue.next() { queue.start(step) }   // …and `finish(step)` when it ends
/// ```
public struct ReadyQueue: Sendable {
    struct Entry: Comparable {
        var priority: Double
        var step: Int
        static func < (a: Entry, b: Entry) -> Bool {
            a.priority != b.priority ? a.priority < b.priority : a.step > b.step
        }
    }

    /// Critical path first (the longest estimated remaining path starts first), or first come,
    /// first served (the step ready first starts first).
    public enum Scheduling: String, Sendable, Hashable, Codable, CaseIterable {
        case criticalPathFirst, firstComeFirstServed
    }

    /// Critical path first, or first come, first served.
    package var scheduling: Scheduling = .criticalPathFirst
    private(set) var priorities: [Double]
    private(set) var exclusive: [Bool]
    /// The most steps running at once.
    package let limit: Int
    private var heap = Heap<Entry>()
    private var sequence = 0.0
    /// Steps started and not finished.
    package private(set) var running = 0
    private var exclusiveRunning = false

    /// - Parameters:
    ///   - priorities: per step, higher starts first (under critical path first).
    ///   - exclusive: per step, whether it must run alone.
    package init(priorities: [Double], exclusive: [Bool], limit: Int) {
        self.priorities = priorities
        self.exclusive = exclusive
        self.limit = max(1, limit)
    }

    /// Steps ready and waiting for a slot.
    package var count: Int { heap.count }

    /// Adds `count` more entries (the items of a forEach step), numbered after the existing ones,
    /// with their step's priority and exclusivity.
    package mutating func extend(count: Int, priority: Double, exclusive: Bool) {
        priorities.append(contentsOf: repeatElement(priority, count: count))
        self.exclusive.append(contentsOf: repeatElement(exclusive, count: count))
    }

    /// Step `step` is ready.
    package mutating func add(_ step: Int) {
        sequence += 1
        heap.insert(Entry(priority: scheduling == .criticalPathFirst ? priorities[step] : -sequence, step: step))
    }

    /// The ready step that may start now, if the limits allow one (still queued).
    package func next() -> Int? {
        guard running < limit, !exclusiveRunning, let top = heap.max else { return nil }
        if exclusive[top.step] && running > 0 { return nil }
        return top.step
    }

    /// Takes ``next()`` off the queue and counts it as running.
    package mutating func start(_ step: Int) {
        _ = heap.popMax()
        running += 1
        if exclusive[step] { exclusiveRunning = true }
    }

    /// A step started with ``start(_:)`` ended.
    package mutating func finish(_ step: Int) {
        running -= 1
        if exclusive[step] { exclusiveRunning = false }
    }

    /// Drops ``next()`` without starting it (it ended while it waited).
    package mutating func discard() { _ = heap.popMax() }

    /// Drops every ready step (the execution is stopping).
    package mutating func removeAllReady() { heap = Heap() }
}
