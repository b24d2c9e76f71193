/// The rules of `forEach` steps that the engine, the stores and the readers of results share.
///
/// Each item of a forEach step `convert` runs as `convert[0]`, `convert[1]`, …: its own attempts,
/// retries, timeout, cache key, log and result. The step's own result aggregates them:
/// `${convert.results}` (each item's outputs in item order; an item that did not succeed has
/// `{status, error}` there), `${convert.itemCount}` and `${convert.failedItems}`.
public enum ForEach {
    /// The most items one step may have.
    public static let maximumItems = 10_000

    /// The names a forEach step's inputs read its item by: `${item}`, `${item.field}`, `${itemIndex}`.
    public static let itemName = "item"
    public static let indexName = "itemIndex"

    /// The outputs of a forEach step's result.
    public static let resultsOutput = "results"
    public static let itemCountOutput = "itemCount"
    public static let failedItemsOutput = "failedItems"

    /// Whether `failed` failures out of `count` items are more than the step tolerates. Without a
    /// tolerance, one failure is too many (like Step Functions' Map).
    public static func exceeds(failed: Int, of count: Int, toleratedFailures: Int?, toleratedPercentage: Double?) -> Bool {
        guard failed > 0 else { return false }
        if toleratedFailures == nil, toleratedPercentage == nil { return true }
        if let n = toleratedFailures, failed > n { return true }
        if let p = toleratedPercentage, p.isFinite, Double(failed) * 100 > p * Double(max(count, 1)) { return true }
        return false
    }
}

extension StepResult {
    /// The id item `index` of forEach step `stepID` is recorded under: `<step>[<index>]`. Step ids
    /// cannot contain `[`, so it names no step.
    public static func itemID(of stepID: String, index: Int) -> String { "\(stepID)[\(index)]" }

    /// The step and index an item id names, or `nil` when `id` is not an item's.
    public static func item(of id: String) -> (stepID: String, index: Int)? {
        guard id.last == "]", let open = id.lastIndex(of: "[") else { return nil }
        let digits = id[id.index(after: open)..<id.index(before: id.endIndex)]
        guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { return nil }
        return (String(id[..<open]), n)
    }

    /// Whether `id` names a forEach item's result rather than a step's.
    public static func isItemID(_ id: String) -> Bool { id.last == "]" && item(of: id) != nil }
}

/// How the items of one forEach step stand: what the API, the CLI and the UI show for the step.
public struct ItemCounts: Sendable, Hashable, Codable, CustomStringConvertible {
    public var total = 0
    public var pending = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0

    public init() {}

    /// `12 items: 10 succeeded, 1 failed, 1 running`.
    public var description: String {
        let parts = [(succeeded, "succeeded"), (failed, "failed"), (cancelled, "cancelled"), (running, "running"), (pending, "pending")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return "\(total) item\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }
}

extension ForEach {
    /// Per forEach step id, how its items stand, from an execution's results (items recorded as
    /// `<step>[<index>]`; an item with no result yet is pending).
    public static func counts(in results: [String: StepResult]) -> [String: ItemCounts] {
        var out: [String: ItemCounts] = [:]
        for (id, r) in results where r.itemCount != nil && !StepResult.isItemID(id) {
            out[id, default: ItemCounts()].total = r.itemCount ?? 0
        }
        guard !out.isEmpty else { return [:] }
        for (id, r) in results {
            // An item past the step's count is left from an earlier, longer list.
            guard id.last == "]", let item = StepResult.item(of: id), let c = out[item.stepID], item.index < c.total else { continue }
            switch r.status {
            case .running: out[item.stepID]?.running += 1
            case .success: out[item.stepID]?.succeeded += 1
            case .failed: out[item.stepID]?.failed += 1
            case .cancelled, .skipped: out[item.stepID]?.cancelled += 1
            case .pending: break
            }
        }
        for (id, c) in out { out[id]?.pending = max(0, c.total - c.running - c.succeeded - c.failed - c.cancelled) }
        return out
    }

    /// The results of forEach step `stepID`'s items, in item order (those with no result yet left out).
    public static func items(of stepID: String, in results: [String: StepResult]) -> [StepResult] {
        results.compactMap { id, r -> (Int, StepResult)? in
            guard id.last == "]", r.status != .pending, let item = StepResult.item(of: id), item.stepID == stepID else { return nil }
            return (item.index, r)
        }
        .sorted { $0.0 < $1.0 }.map(\.1)
    }
}
