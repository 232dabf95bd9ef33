import Foundation
import TollgateCore

/// Everything `MemoryStore` holds, as plain values guarded by the store's lock.
struct MemoryStoreState {
    var keysByID: [String: APIKeyRecord] = [:]
    var idByHash: [String: String] = [:]
    var counters = MemoryCounters()

    mutating func loadKeys(_ records: [APIKeyRecord]) {
        for record in records {
            keysByID[record.id] = record
            idByHash[record.hash] = record.id
        }
    }
}

/// The counter half of the state (rate-limit TATs, budget consumption, usage), persisted periodically.
struct MemoryCounters: Codable {
    /// team → rule key → TAT (µs).
    var tats: [String: [String: Int64]] = [:]
    /// team → budget bucket → consumption.
    var budgets: [String: [String: BudgetConsumption]] = [:]
    /// team → period key → usage.
    var usage: [String: [String: PeriodUsage]] = [:]

    /// Drops daily and monthly counters older than their retention (as Redis expires them), so the
    /// counters file stays bounded. Period keys sort by date (`d2026-11-26`, `m2026-11`).
    mutating func prunePeriods(now: Date) {
        let cutoffs = [BudgetPeriod.daily, .monthly].compactMap { period -> (prefix: String, oldest: String)? in
            guard let retention = period.retentionSeconds else { return nil }
            let oldest = period.key(at: now.addingTimeInterval(-Double(retention)))
            return (String(oldest.prefix(1)), oldest)
        }
        func expired(_ periodKey: Substring) -> Bool {
            cutoffs.contains { periodKey.hasPrefix($0.prefix) && periodKey < $0.oldest }
        }
        for team in Array(usage.keys) {
            usage[team] = usage[team]?.filter { !expired(Substring($0.key)) }
            if usage[team]?.isEmpty == true { usage[team] = nil }
        }
        for team in Array(budgets.keys) {
            budgets[team] = budgets[team]?.filter { bucket, _ in
                !expired(bucket.split(separator: "|").last ?? Substring(bucket))
            }
            if budgets[team]?.isEmpty == true { budgets[team] = nil }
        }
    }

    /// Drops TATs already in the past: an absent TAT and a past one mean the same full bucket.
    mutating func pruneTATs(nowMicros: Int64) {
        for team in Array(tats.keys) {
            tats[team] = tats[team]?.filter { $0.value > nowMicros }
            if tats[team]?.isEmpty == true { tats[team] = nil }
        }
    }
}

/// Usage of one team in one period, in total and per key id.
struct PeriodUsage: Codable {
    var total = UsageCounters()
    var perKey: [String: UsageCounters] = [:]
}

/// On-disk form of the key file; only hashes, never secrets.
struct PersistedKeys: Codable {
    var version = 1
    var keys: [APIKeyRecord]
}

/// On-disk form of the counters file.
struct PersistedCounters: Codable {
    var version = 1
    var counters: MemoryCounters
}

extension JSONEncoder {
    static let store: JSONEncoder = {
        let encoder = JSONEncoder()
        // Dates as exact reference-date seconds so records round-trip bit-identically.
        encoder.dateEncodingStrategy = .deferredToDate
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let store: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .deferredToDate
        return decoder
    }()
}
