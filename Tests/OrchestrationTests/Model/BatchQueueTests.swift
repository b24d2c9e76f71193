import Orchestration
import Synchronization
import Testing

@Suite("BatchQueue")
struct BatchQueueTests {
    @Test("the consumer takes everything queued at once, in order; a take with nothing queued waits until something is")
    func batches() async {
        let queue = BatchQueue<Int>()
        queue.append(1)
        queue.append(contentsOf: [2, 3])
        queue.append(contentsOf: [Int]())
        #expect(await queue.take() == [1, 2, 3])
        let taken = Mutex<[Int]?>(nil)
        let consumer = Task {
            let batch = await queue.take()
            taken.withLock { $0 = batch }
        }
        for _ in 0..<2000 { await Task.yield() }
        #expect(taken.withLock { $0 } == nil, "a take returned with nothing queued")
        queue.append(4)
        await consumer.value
        #expect(taken.withLock { $0 } == [4])
    }

    @Test("cancelling the consumer ends the queue: its take returns nil, and so does every later one; what is queued after is dropped")
    func cancelled() async {
        let queue = BatchQueue<Int>()
        let consumer = Task { await queue.take() }
        for _ in 0..<200 { await Task.yield() }
        consumer.cancel()
        #expect(await consumer.value == nil)
        queue.append(5)
        #expect(await queue.take() == nil)
    }
}
