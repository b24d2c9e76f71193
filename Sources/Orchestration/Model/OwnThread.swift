import Foundation

/// Runs blocking work (a polling wait with `usleep`, a blocking system call) on a thread of its
/// own. Swift's cooperative pool has as many threads as cores, so blocking one of them for seconds
/// stalls every task of the process on a small machine; `Task.detached` does not help, it runs on
/// the same pool.
public enum OwnThread {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
