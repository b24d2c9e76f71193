extension Int {
    /// `value` rounded toward zero, total: NaN is 0 and anything beyond `Int`'s range is its
    /// nearest end. `Int(_: Double)` traps on those; numbers read from another process (an API
    /// answer, a stored row) go through this instead.
    package init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.2e18 {
            self = .max
        } else if value <= -9.2e18 {
            self = .min
        } else {
            self = Int(value)
        }
    }
}
