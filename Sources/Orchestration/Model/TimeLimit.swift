/// `body`'s result, or `nil` when `limit` (on the continuous clock) passes first; `body` is then
/// cancelled and awaited. For a call that may hang (a database round trip, a wake-up).
///
/// ```swift
/// let renewed = await withTimeLimit(.seconds(1)) { try? await leases.renewLeases() }
/// ```
package func withTimeLimit<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T?) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
