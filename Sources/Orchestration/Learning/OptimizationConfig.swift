import Foundation

/// Settings of the learning engine, mirroring the guide's `OptimizationConfig`.
public struct OptimizationConfig: Sendable, Hashable, Codable {
    /// Apply safe suggestions at or above `minConfidence` as a new workflow version, and revert
    /// them when the new version does significantly worse. Default `false`.
    public var enableAutoOptimization: Bool
    /// The weight of the newest duration in the EWMA. Default 0.1.
    public var learningRate: Double
    /// The confidence a suggestion needs to be applied automatically. Default 0.8.
    public var minConfidence: Double
    /// Executions before a pattern (and history-based suggestions) exist. Default 10.
    public var minimumExecutions: Int
    /// Recent samples kept per step for percentiles and regressions. Default 256.
    public var window: Int

    public init(
        enableAutoOptimization: Bool = false, learningRate: Double = 0.1, minConfidence: Double = 0.8, minimumExecutions: Int = 10, window: Int = 256
    ) {
        self.enableAutoOptimization = enableAutoOptimization
        self.learningRate = learningRate
        self.minConfidence = minConfidence
        self.minimumExecutions = minimumExecutions
        self.window = window
    }
}
