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

    private struct Demand {
        var windowStart: Date
        var current: Int
        var previous: Int
    }

    public let settings: Settings
    private var leases: [LeaseIdentity: AdmissionLease] = [:]
    private var demand: [LeaseIdentity: Demand] = [:]
    /// Identities with a lease request on its way: one at a time, others go one by one meanwhile.
    private var asking: Set<LeaseIdentity> = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Number of leases held (for tests and status).
    public var leaseCount: Int { leases.count }

    /// Admits from a lease when one covers the request; otherwise says what to ask the store. A request
    /// with no limits and no budgets is not tracked: there is nothing to lease.
    public mutating func admit(_ request: AdmissionRequest, now: Date) -> Step {
        let periodKeys = request.budgets.map { $0.period.key(at: now) }
        guard !request.limits.isEmpty || !request.budgets.isEmpty else {
            return .forward(Forward(request: request, identity: LeaseIdentity(request, periodKeys: periodKeys), periodKeys: periodKeys))
        }
        let identity = LeaseIdentity(request, periodKeys: periodKeys)
        if let admission = leases[identity]?.draw(request, now: now) {
            countDemand(identity, now: now)
            return .admitted(admission)
        }
        let multiple = countDemand(identity, now: now).map { leaseMultiple(for: request, demand: $0) } ?? 1
        var forwarded = request
        forwarded.leaseMultiplier = 1
        if multiple > 1, !asking.contains(identity) {
            asking.insert(identity)
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
        asking.remove(forward.identity)
        guard case .admitted(let admission) = decision, admission.leasedMultiple > 1 else { return (decision, nil) }
        var single = forward.request
        single.leaseMultiplier = 1
        let lease = AdmissionLease(
            granting: single, periodKeys: forward.periodKeys, multiple: admission.leasedMultiple, statuses: admission.limits,
            now: now, lifetime: settings.lifetime)
        let retired = leases.updateValue(lease, forKey: forward.identity)?.unspent
        return (.admitted(lease.admission(for: single, now: now)), retired)
    }

    /// The store did not answer a forwarded request: another may ask for this identity's lease.
    public mutating func abandon(_ forward: Forward) {
        if forward.request.leaseMultiplier > 1 { asking.remove(forward.identity) }
    }

    /// Removes expired leases and returns what they left unspent; forgets identities idle for two lifetimes.
    public mutating func expire(now: Date) -> [Reservation] {
        let expired = leases.filter { $0.value.expiresAt <= now }
        for identity in expired.keys { leases[identity] = nil }
        demand = demand.filter { now.timeIntervalSince($0.value.windowStart) < 2 * settings.lifetime || leases[$0.key] != nil }
        return expired.values.compactMap(\.unspent)
    }

    /// Removes every lease (shutdown, or leases switched off) and returns what they left unspent.
    public mutating func returnAll() -> [Reservation] {
        defer { leases.removeAll() }
        return leases.values.compactMap(\.unspent)
    }

    /// Counts one request of `identity` and returns the demand estimate (requests per lifetime), or
    /// nil when the book is full and does not track it.
    @discardableResult
    private mutating func countDemand(_ identity: LeaseIdentity, now: Date) -> Int? {
        guard var entry = demand[identity] ?? (demand.count < settings.capacity ? Demand(windowStart: now, current: 0, previous: 0) : nil)
        else { return nil }
        let age = now.timeIntervalSince(entry.windowStart)
        if age >= settings.lifetime {
            entry.previous = age < 2 * settings.lifetime ? entry.current : 0
            entry.current = 0
            entry.windowStart = now
        }
        entry.current += 1
        demand[identity] = entry
        return max(entry.previous, entry.current)
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
