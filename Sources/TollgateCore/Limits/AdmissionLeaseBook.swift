import Foundation

/// Admission leases of one replica: which requests are admitted locally from capacity the store
/// granted ahead, and how large the next lease should be.
///
/// Why: with Redis, every admission is a network round trip (about 100 µs on loopback, most of it
/// wake-ups on both sides). A replica serving a steady stream against large limits asks for several
/// requests' worth at once and spends them locally. What keeps this safe:
/// - a lease is charged in the store before it is spent, so the store always holds at least what was
///   admitted and no budget is exceeded; for rate limits a leased unit counts from its grant, up to one
///   lifetime before it is used, so a burst can pass exact GCRA by at most the unspent part of one
///   lease per replica (docs/limits.md, "Admission leases");
/// - leases are small: at most 1/64 of a rate limit and 1/1024 of a budget, sized by the demand this
///   identity had in the last lifetime, and only against limits of at least `minimumLimit` units;
/// - the store grants one only while every limit and budget keeps half its capacity after it
///   (`AdmissionEvaluator.leaseFits`), so the last half of a limit is admitted one request at a time,
///   exactly, and small limits (rpm 20, a 1,000-token budget) are never leased at all;
/// - what a lease did not spend goes back to the store when it expires (one second) or is replaced.
/// The cost: for up to a lifetime, another replica may be refused capacity this one holds unspent,
/// and a replica that crashes loses its unspent lease (charged, never used).
///
/// Pure and clock-free (callers pass `now`); the caller serializes access.
public struct AdmissionLeaseBook: Sendable {
    public struct Settings: Sendable, Equatable {
        /// How long a lease may be spent; also the window demand is measured over.
        public var lifetime: TimeInterval = 1
        /// The most requests one lease covers.
        public var maximumMultiple: Int = 256
        /// A lease takes at most 1/`limitShare` of any rate limit...
        public var limitShare: Int64 = 64
        /// ...and at most 1/`budgetShare` of any budget ceiling.
        public var budgetShare: Int64 = 1024
        /// Rate limits below this many units (requests or tokens per window) are never leased.
        public var minimumLimit: Int = 1000
        /// Identities tracked at once; beyond it, new ones are admitted one request at a time.
        public var capacity: Int = 4096

        public init() {}
    }

    /// What to do with a request the book could not admit locally.
    public struct Forward: Sendable {
        /// The request to send to the store (with a lease multiplier when a lease is worth asking for).
        public let request: AdmissionRequest
        let identity: LeaseIdentity
        let periodKeys: [String]
    }

    public enum Step: Sendable {
        case admitted(Admission)
        case forward(Forward)
    }

    /// Requests of one identity per lifetime, this window and the last.
    private struct Demand {
        var windowStart: Date
        var current = 0
        var previous = 0

        /// Counts one request and returns the estimate (requests per lifetime).
        mutating func count(now: Date, lifetime: TimeInterval) -> Int {
            let age = now.timeIntervalSince(windowStart)
            if age >= lifetime {
                previous = age < 2 * lifetime ? current : 0
                current = 0
                windowStart = now
            }
            current += 1
            return max(previous, current)
        }
    }

    /// Everything the book knows about one identity, so a request costs one lookup.
    private struct Entry {
        var demand: Demand
        var lease: AdmissionLease?
        /// A lease request is on its way: one at a time, others go one by one meanwhile.
        var asking = false
    }

    public let settings: Settings
    private var entries: [LeaseIdentity: Entry] = [:]

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Number of leases held (for tests and status).
    public var leaseCount: Int { entries.values.reduce(0) { $0 + ($1.lease == nil ? 0 : 1) } }

    /// Admits from a lease when one covers the request; otherwise says what to ask the store. A request
    /// with no limits and no budgets is not tracked (there is nothing to lease), nor is a new identity
    /// once `capacity` are tracked.
    public mutating func admit(_ request: AdmissionRequest, now: Date) -> Step {
        let periodKeys = request.budgets.map { $0.period.key(at: now) }
        let identity = LeaseIdentity(request, periodKeys: periodKeys)
        var forwarded = request
        forwarded.leaseMultiplier = 1
        guard !request.limits.isEmpty || !request.budgets.isEmpty, let index = entryIndex(identity, now: now) else {
            return .forward(Forward(request: forwarded, identity: identity, periodKeys: periodKeys))
        }
        // Mutated in place through the index: the lease's unit arrays are not copied per request.
        let demand = entries.values[index].demand.count(now: now, lifetime: settings.lifetime)
        if let admission = entries.values[index].lease?.draw(request, now: now) { return .admitted(admission) }
        let multiple = leaseMultiple(for: request, demand: demand)
        if multiple > 1, !entries.values[index].asking {
            entries.values[index].asking = true
            forwarded.leaseMultiplier = multiple
        }
        return .forward(Forward(request: forwarded, identity: identity, periodKeys: periodKeys))
    }

    /// Takes the store's answer to a forwarded request. A lease it granted is kept (the requester takes
    /// the first unit) and replaces any older one, whose unspent part is returned in `retired`.
    public mutating func complete(
        _ forward: Forward, decision: AdmissionDecision, now: Date
    ) -> (decision: AdmissionDecision, retired: Reservation?) {
        guard forward.request.leaseMultiplier > 1 else { return (decision, nil) }
        // An asking entry is never expired, so it is there; should it not be, the grant still needs a home.
        if entries[forward.identity] == nil { entries[forward.identity] = Entry(demand: Demand(windowStart: now)) }
        guard let index = entries.index(forKey: forward.identity) else { return (decision, nil) }
        entries.values[index].asking = false
        guard case .admitted(let admission) = decision, admission.leasedMultiple > 1 else { return (decision, nil) }
        var single = forward.request
        single.leaseMultiplier = 1
        let lease = AdmissionLease(
            granting: single, periodKeys: forward.periodKeys, multiple: admission.leasedMultiple, statuses: admission.limits,
            now: now, lifetime: settings.lifetime)
        let retired = entries.values[index].lease?.unspent
        entries.values[index].lease = lease
        return (.admitted(lease.admission(for: single, now: now)), retired)
    }

    /// The store did not answer a forwarded request: another may ask for this identity's lease.
    public mutating func abandon(_ forward: Forward) {
        guard forward.request.leaseMultiplier > 1, let index = entries.index(forKey: forward.identity) else { return }
        entries.values[index].asking = false
    }

    /// Removes expired leases and returns what they left unspent; forgets identities idle for two
    /// lifetimes that hold no lease and have no lease request on its way.
    public mutating func expire(now: Date) -> [Reservation] {
        var unspent: [Reservation] = []
        for index in entries.indices {
            guard let lease = entries.values[index].lease, lease.expiresAt <= now else { continue }
            if let rest = lease.unspent { unspent.append(rest) }
            entries.values[index].lease = nil
        }
        entries = entries.filter {
            $0.value.lease != nil || $0.value.asking || now.timeIntervalSince($0.value.demand.windowStart) < 2 * settings.lifetime
        }
        return unspent
    }

    /// Removes every lease (shutdown, or leases switched off) and returns what they left unspent.
    public mutating func returnAll() -> [Reservation] {
        var unspent: [Reservation] = []
        for index in entries.indices {
            if let rest = entries.values[index].lease?.unspent { unspent.append(rest) }
            entries.values[index].lease = nil
        }
        return unspent
    }

    /// The entry of `identity`, created when the book has room.
    private mutating func entryIndex(_ identity: LeaseIdentity, now: Date) -> Dictionary<LeaseIdentity, Entry>.Index? {
        if let index = entries.index(forKey: identity) { return index }
        guard entries.count < settings.capacity else { return nil }
        entries[identity] = Entry(demand: Demand(windowStart: now))
        return entries.index(forKey: identity)
    }

    /// The lease size worth asking for: the identity's recent demand, capped by every limit's and
    /// budget's share; 1 (no lease) when that leaves fewer than two requests.
    public func leaseMultiple(for request: AdmissionRequest, demand: Int) -> Int {
        var multiple = Int64(min(demand, settings.maximumMultiple, AdmissionRequest.maximumLeaseMultiplier))
        for rule in request.limits {
            guard rule.limit >= settings.minimumLimit else { return 1 }
            let cost = max(1, rule.gcra.normalizedCost(rule.cost))
            multiple = min(multiple, Int64(rule.limit) / settings.limitShare / cost)
        }
        for rule in request.budgets {
            if let limit = rule.tokenLimit, rule.reserveTokens > 0 { multiple = min(multiple, limit / settings.budgetShare / rule.reserveTokens) }
            if let limit = rule.microsLimit, rule.reserveMicros > 0 { multiple = min(multiple, limit / settings.budgetShare / rule.reserveMicros) }
        }
        return multiple >= 2 ? Int(multiple) : 1
    }
}
