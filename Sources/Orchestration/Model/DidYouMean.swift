/// "Did you mean …?" hints from edit distance.
package enum DidYouMean {
    /// The candidate nearest to `word`, if it is near enough to be a plausible typo.
    ///
    /// Near enough: an edit distance of at most a third of the word's length (at least 1),
    /// or one is a case-insensitive prefix of the other.
    package static func nearest(_ word: String, among candidates: some Sequence<String>) -> String? {
        let w = Array(word.lowercased().unicodeScalars)
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            let c = Array(candidate.lowercased().unicodeScalars)
            let limit = max(1, max(w.count, c.count) / 3)
            guard abs(w.count - c.count) <= limit else { continue }
            let d = distance(w, c, limit: limit)
            if d <= limit, best.map({ d < $0.1 || (d == $0.1 && candidate < $0.0) }) ?? true {
                best = (candidate, d)
            }
        }
        return best?.0
    }

    /// `"; did you mean 'x'?"` or the empty string.
    ///
    /// For a choice among a fixed list, ``unknownChoice(_:among:)`` reads better.
    package static func hint(_ word: String, among candidates: some Sequence<String>) -> String {
        nearest(word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
    /// giving up (returning `limit + 1`) once it must exceed `limit`.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMin = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
                rowMin = min(rowMin, current[j])
            }
            if rowMin > limit { return limit + 1 }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}

extension DidYouMean {
    /// `"; did you mean 'x'?"` when a choice is near, else `"; expected one of a, b, c"`.
    package static func unknownChoice(_ word: String, among choices: [String]) -> String {
        if let near = nearest(word, among: choices) { return "; did you mean '\(near)'?" }
        return "; expected one of \(choices.joined(separator: ", "))"
    }
}
