import Foundation

/// Per-rule timing, so a pack author can find the pattern that makes screening slow.
public struct RuleTiming: Sendable {
    public let ruleID: String
    public let microseconds: Double
}

extension ScreeningEngine {
    /// Mean time of each rule's search over the views of `text` (injection) or the PII view (PII rules),
    /// slowest first. Diagnostic only; not used on the request path.
    public func profileRules(_ text: String, iterations: Int) -> [RuleTiming] {
        let runs = max(iterations, 1)
        let injectionViews = InjectionNormalizer().views(of: text)
        let piiView = PIIView(text)
        let clock = ContinuousClock()
        var timings: [RuleTiming] = []
        _ = scratchPool.withScratch { scratch in
            for rule in injectionRules {
                let kind: InjectionView.Kind = rule.view == .text ? .text : .compact
                let elapsed = clock.measure {
                    for _ in 0..<runs {
                        for view in injectionViews where view.kind == kind {
                            _ = view.bytes.withUnsafeBufferPointer { rule.pattern.search($0, from: 0, scratch: scratch) }
                        }
                    }
                }
                timings.append(RuleTiming(ruleID: rule.id, microseconds: Self.micros(elapsed) / Double(runs)))
            }
            for rule in piiRules {
                let elapsed = clock.measure {
                    for _ in 0..<runs {
                        piiView.bytes.withUnsafeBufferPointer { buffer in
                            var position = 0
                            while case .match(_, let end) = rule.pattern.search(buffer, from: position, scratch: scratch) {
                                position = max(end, position + 1)
                                if position > buffer.count { break }
                            }
                        }
                    }
                }
                timings.append(RuleTiming(ruleID: rule.id, microseconds: Self.micros(elapsed) / Double(runs)))
            }
        }
        return timings.sorted { $0.microseconds > $1.microseconds }
    }

    private static func micros(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }
}
