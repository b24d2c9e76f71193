import Foundation

/// Durable consumers of the event bus: event triggers and outbound subscriptions.
extension EventBus {
    /// A durable consumer: hands `deliver` every event matching `pattern` after the consumer's
    /// saved cursor, in order; runs until cancelled. A consumer that never ran starts at the
    /// newest event (it does not replay history).
    ///
    /// The cursor is saved after each delivery that acted (`deliver` returns `true`: it started
    /// an execution, posted a webhook), so a crash repeats at most the one in flight; otherwise
    /// once per batch. While `interested` says no (no event trigger is enabled), events are
    /// skipped without being read.
    ///
    /// On a store several nodes share (``ConsumerLeases``), one node at a time delivers for `name`:
    /// the others stand by and take over from the saved cursor when the holder stops renewing.
    public func consume(
        name: String, pattern: String, interested: (@Sendable () async -> Bool)? = nil,
        deliver: @escaping @Sendable (BusEvent) async -> Bool
    ) async {
        guard let leases = store as? any ConsumerLeases else {
            await consumeHeld(name: name, pattern: pattern, interested: interested, deliver: deliver) { await self.waitForEvents(after: $0) }
            return
        }
        let renewal = leases.leaseDuration / 3
        while !Task.isCancelled, !isStopped {
            guard (try? await leases.holdConsumer(name)) == true else {
                // Another node delivers (or the store is out of reach): ask again in a while.
                try? await Task.sleep(for: renewal)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await self.consumeHeld(name: name, pattern: pattern, interested: interested, deliver: deliver) { _ in
                        await leases.waitForAppends(upTo: renewal)
                    }
                }
                group.addTask {
                    // Renews the hold; once it is lost, or not renewed within five sixths of a
                    // lease (after which another node may take it), delivering stops: two nodes
                    // never deliver for one consumer at once.
                    let clock = ContinuousClock()
                    var renewed = clock.now
                    while !Task.isCancelled {
                        try? await Task.sleep(for: renewal)
                        if Task.isCancelled { return }
                        let deadline = renewed + leases.leaseDuration * 5 / 6
                        let asked = clock.now
                        let held = await withTimeLimit(max(.zero, asked.duration(to: deadline))) {
                            (try? await leases.holdConsumer(name)) ?? false
                        }
                        guard held == true else { return }
                        renewed = asked
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        // Shutting down: the next node need not wait for the lease to run out.
        try? await leases.releaseConsumer(name)
    }

    /// Delivers for consumer `name` from its saved cursor until cancelled, waiting with `wait`
    /// (given the cursor) when there is nothing new.
    private func consumeHeld(
        name: String, pattern: String, interested: (@Sendable () async -> Bool)?, deliver: @Sendable (BusEvent) async -> Bool,
        wait: @Sendable (Int64) async -> Void
    ) async {
        var cursor: Int64
        do {
            if let saved = try await store.cursor(name) {
                cursor = saved
            } else {
                cursor = try await store.lastEventSeq()
                try await store.saveCursor(name, cursor)
            }
        } catch {
            return
        }
        var savedAt = ContinuousClock.now
        var unsaved = false
        while !Task.isCancelled {
            if let interested, await !interested() {
                // Nobody to deliver to: move past what is there, unread (saving where, at most once a second).
                guard let last = try? await store.lastEventSeq() else { return }
                if last > cursor {
                    cursor = last
                    unsaved = true
                }
                if unsaved, savedAt.duration(to: .now) >= .seconds(1) {
                    try? await store.saveCursor(name, cursor)
                    savedAt = .now
                    unsaved = false
                }
                await wait(cursor)
                if isStopped { return }
                continue
            }
            if unsaved {
                try? await store.saveCursor(name, cursor)
                unsaved = false
            }
            guard let batch = try? await store.events(after: cursor, limit: 500) else { return }
            if batch.isEmpty {
                await wait(cursor)
                if isStopped { return }
                continue
            }
            for event in batch {
                if Task.isCancelled { return }
                if BusEvent.matches(type: event.type, pattern: pattern) {
                    let acted = await deliver(event)
                    // Stopped while delivering: not done, so it is handed over again next time.
                    if Task.isCancelled { return }
                    cursor = event.seq
                    if acted { try? await store.saveCursor(name, cursor) }
                }
            }
            if let last = batch.last?.seq, last >= cursor {
                cursor = last
                try? await store.saveCursor(name, cursor)
            }
        }
    }
}
