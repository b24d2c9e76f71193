import Orchestration

/// The virtual clock tests drive: ``VirtualClock``, under the name the tests use.
public typealias ManualClock = VirtualClock
