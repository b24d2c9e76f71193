import Yams

/// Guards against YAML alias bombs: a few hundred bytes whose aliases repeat aliases of
/// aliases expand to billions of values. Composing such a document is cheap (an alias shares the
/// anchored node); reading every value it expands to is not. So before anything reads the
/// document, this walks it counting the nodes it expands to, allocation-free, and stops at the
/// budget: the work is bounded by the budget, whatever the document.
///
/// The budget grows with the text: a document without aliases has fewer nodes than half its
/// bytes, so `10,000 + bytes / 2` leaves room for every honest use of anchors (a shared retry
/// policy, common inputs) and none for a bomb.
///
/// ```swift
/// AliasBudget.expandsBeyond(node, sourceBytes: 405)   // true for the nine-level "laughs" bomb
/// ```
enum AliasBudget {
    static func budget(sourceBytes: Int) -> Int { 10_000 + sourceBytes / 2 }

    /// Whether `root` expands to more than the budget for `sourceBytes` of text.
    static func expandsBeyond(_ root: Node, sourceBytes: Int) -> Bool {
        let limit = budget(sourceBytes: sourceBytes)
        var count = 0
        var stack: [Node] = [root]
        while let node = stack.popLast() {
            count += 1
            if count > limit { return true }
            switch node {
            case .scalar, .alias: break
            case .sequence(let items): stack.append(contentsOf: items)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            }
        }
        return false
    }
}
