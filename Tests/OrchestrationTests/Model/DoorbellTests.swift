import Orchestration
import Synchronization
import Testing

@Suite("Doorbell")
struct DoorbellTests {
    /// Whether a wait started now is still waiting after the scheduler had every chance to run it.
    static func stillWaiting(_ bell: Doorbell) async -> (Bool, Task<Void, Never>) {
        let done = Atomic<Bool>(false)
        let waiting = Task {
            await bell.wait()
            done.store(true, ordering: .sequentiallyConsistent)
        }
        for _ in 0..<2000 { await Task.yield() }
        return (!done.load(ordering: .sequentiallyConsistent), waiting)
    }

    @Test(
        "a ring before anyone waits is remembered once; a wait cancelled or timed out leaves the bell working (an AsyncStream would end for good and every later wait would return at once)"
    )
    func cancelledWaitLeavesItUsable() async {
        let bell = Doorbell()
        bell.ring()
        bell.ring()
        await bell.wait()  // the remembered ring, once
        let (blocked, first) = await Self.stillWaiting(bell)
        #expect(blocked, "a wait returned without a ring")
        first.cancel()
        await first.value
        await bell.wait(upTo: .milliseconds(1))  // times out: its wait is cancelled too
        let (stillBlocked, second) = await Self.stillWaiting(bell)
        #expect(stillBlocked, "after a cancelled wait, a wait returned without a ring")
        bell.ring()
        await second.value
    }
}
