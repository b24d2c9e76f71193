import Foundation

/// The statistics the learning engine's confidences rest on. Every formula here is written out in
/// docs/learning.md.
package enum Statistics {
    /// z for a one-sided 95% bound.
    package static let z95 = 1.6448536269514722

    /// The Wilson score interval for `successes` out of `trials`: (0, 1) when there are none.
    package static func wilson(_ successes: Int, _ trials: Int, z: Double = z95) -> (lower: Double, upper: Double) {
        guard trials > 0 else { return (0, 1) }
        // Counts from a damaged history can disagree (more successes than trials): clamp them.
        let n = Double(trials), p = Double(min(max(0, successes), trials)) / n, z2 = z * z
        let centre = p + z2 / (2 * n)
        let margin = z * ((p * (1 - p) + z2 / (4 * n)) / n).squareRoot()
        return (max(0, (centre - margin) / (1 + z2 / n)), min(1, (centre + margin) / (1 + z2 / n)))
    }

    /// The Wilson score interval's lower bound (0 when no trials).
    package static func wilsonLower(_ successes: Int, _ trials: Int, z: Double = z95) -> Double { wilson(successes, trials, z: z).lower }

    /// The Wilson score interval's upper bound (1 when no trials).
    package static func wilsonUpper(_ successes: Int, _ trials: Int, z: Double = z95) -> Double { wilson(successes, trials, z: z).upper }

    /// The standard normal distribution function.
    package static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The standard normal density.
    package static func normalPDF(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }

    /// The standard normal quantile (Acklam's rational approximation, refined by one Halley step).
    /// Total: `p` is clamped into [1e-300, 1 − 2⁻⁵³] (NaN is ½), so the answer is always finite.
    package static func normalQuantile(_ p: Double) -> Double {
        let p = p.isNaN ? 0.5 : min(max(p, 1e-300), 1 - Double.ulpOfOne / 2)
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
            2.506628277459239e+00,
        ]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
            2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// The `q` quantile (0…1) of `values` by linear interpolation between order statistics.
    package static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let q = q.isNaN ? 0.5 : min(max(q, 0), 1)
        let position = q * Double(sorted.count - 1)
        let i = Int(position.rounded(.down)), f = position - Double(i)
        return i + 1 < sorted.count ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i]
    }

    /// The one-sided p-value of the Mann–Whitney U test that `later` tends to be larger than
    /// `earlier` (normal approximation with tie correction). Small means "significantly larger".
    package static func mannWhitneyGreater(later: [Double], earlier: [Double]) -> Double {
        let n1 = Double(later.count), n2 = Double(earlier.count)
        guard n1 > 0, n2 > 0 else { return 1 }
        var all = later.map { ($0, true) } + earlier.map { ($0, false) }
        all.sort { $0.0 < $1.0 }
        var rankSum = 0.0, tieTerm = 0.0, i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2
            let t = Double(j - i + 1)
            if t > 1 { tieTerm += t * t * t - t }
            for k in i...j where all[k].1 { rankSum += rank }
            i = j + 1
        }
        let u = rankSum - n1 * (n1 + 1) / 2
        let n = n1 + n2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }
        let z = (u - n1 * n2 / 2 - 0.5) / variance.squareRoot()
        return 1 - normalCDF(z)
    }

    /// A log-normal fit of durations of which some are known only to exceed a limit (attempts
    /// cut off by a timeout: right-censored): the EM algorithm for a censored normal on log
    /// scale. Returns μ and σ of log(seconds), or `nil` when the data cannot give a finite fit
    /// (fewer than two positive observations; non-finite values are ignored).
    package static func censoredLogNormal(observed: [Double], censoredAt limits: [Double]) -> (mu: Double, sigma: Double)? {
        let logs = observed.filter { $0 > 0 && $0.isFinite }.map(log)
        let cuts = limits.filter { $0 > 0 && $0.isFinite }.map(log)
        guard logs.count >= 2 else { return nil }
        let n = Double(logs.count + cuts.count)
        var mu = logs.reduce(0, +) / Double(logs.count)
        var sigma = max(1e-3, (logs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(logs.count - 1)).squareRoot())
        for _ in 0..<200 {
            var sum = logs.reduce(0, +), squares = logs.map { $0 * $0 }.reduce(0, +)
            for c in cuts {
                // E[X | X > c] and E[X² | X > c] for X ~ N(μ, σ²).
                let a = (c - mu) / sigma
                let tail = max(1e-300, 1 - normalCDF(a))
                let lambda = normalPDF(a) / tail
                let mean = mu + sigma * lambda
                let second = mu * mu + sigma * sigma + sigma * (c + mu) * lambda
                sum += mean
                squares += second
            }
            let newMu = sum / n
            let newSigma = max(1e-3, (squares / n - newMu * newMu).squareRoot())
            let done = abs(newMu - mu) < 1e-9 && abs(newSigma - sigma) < 1e-9
            mu = newMu
            sigma = newSigma
            if done { break }
        }
        // Heavy censoring can push the fit off to infinity: no fit then, rather than an infinite one.
        guard mu.isFinite, sigma.isFinite else { return nil }
        return (mu, sigma)
    }
}
