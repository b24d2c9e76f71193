import NIOCore
import Synchronization

/// Runs tasks on a NIO event loop: code that must not interleave with what the loop does (a
/// connection's close) runs between two of its events (``PostgresConnection/execute(_:logger:)``).
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    private init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    private static let cache = Mutex<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    /// The executor of `loop` (one per loop, for as long as the process runs: loops are few and live as long).
    static func of(_ loop: any EventLoop) -> EventLoopTaskExecutor {
        cache.withLock { cache in
            if let known = cache[ObjectIdentifier(loop)] { return known }
            let made = EventLoopTaskExecutor(loop)
            cache[ObjectIdentifier(loop)] = made
            return made
        }
    }
}
