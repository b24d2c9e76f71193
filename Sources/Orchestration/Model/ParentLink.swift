/// Where a child execution comes from: the parent execution and its `workflow` step (an item id
/// like `build[2]` for a forEach step), and how deep the child is nested (1 for a child of a
/// top-level execution).
public struct ParentLink: Sendable, Hashable, Codable {
    public var executionID: String
    public var stepID: String
    public var depth: Int

    public init(executionID: String, stepID: String, depth: Int) {
        self.executionID = executionID
        self.stepID = stepID
        self.depth = depth
    }

    /// The deepest a child may be nested: a workflow that starts itself through others is refused
    /// at registration, and this bounds what registration cannot see (workflows registered later).
    public static let maximumDepth = 8
}
