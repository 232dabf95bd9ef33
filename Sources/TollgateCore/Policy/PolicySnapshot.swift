/// The compiled, validated, immutable form of a policy file.
///
/// A request captures one snapshot when it starts and reads nothing else, so a reload that
/// swaps in a new snapshot never lets a request see half of one policy and half of another.
/// After loading, nothing here is optional that a stage needs: defaults are already applied.
public struct PolicySnapshot: Sendable {
    public var version: Int
    /// Where the policy came from; relative paths inside it resolved against its folder.
    public var sourcePath: String
    public var state: StateSettings
    public var server: ServerSettings
    public var providers: [String: ProviderSettings]
    public var models: [String: ModelSettings]
    /// Model names in file order, so `/v1/models` lists them as the admin wrote them.
    public var modelOrder: [String]
    public var routers: [String: RouterSettings]
    /// Plain aliases (`routing: {fast: gpt-4o-mini}`): another name for one model, resolved before
    /// anything else, so a deployment can move `fast` to a new model without touching its clients.
    public var aliases: [String: String] = [:]
    public var teams: [String: TeamSettings]
    public var cache: CacheSettings
    public var screening: ScreeningSettings
    public var circuitBreaker: BreakerSettings
    public var retries: RetrySettings
    public var audit: AuditSettings

    /// The team of a static key (policy `teams.<t>.keys`) by its SHA-256, looked up per request.
    public internal(set) var staticKeyTeams: [String: String] = [:]

    /// Whether `name` is something a client may put in `model`: a model, a router or an alias.
    public func isKnownModel(_ name: String) -> Bool {
        models[name] != nil || routers[name] != nil || aliases[name] != nil
    }

    /// The names a team may request, in a stable order.
    public func allowedModels(for team: TeamSettings) -> [String] {
        let all = modelOrder + (Array(routers.keys) + Array(aliases.keys)).sorted()
        guard let allowed = team.models else { return all }
        let set = Set(allowed)
        return all.filter { set.contains($0) }
    }
}

public struct StateSettings: Sendable, Equatable {
    public enum Backend: String, Sendable { case memory, redis }
    public enum FailMode: String, Sendable { case failOpen = "fail_open", failClosed = "fail_closed" }
    public var backend: Backend
    public var url: String?
    /// What limits do when the store is unreachable; budgets default to failing closed.
    public var onUnavailable: FailMode
    /// Whether a replica may admit ahead from small leases of large limits (see `AdmissionLeaseBook`)
    /// or must ask the store for every request. Only matters for a remote store (Redis).
    public var admission: AdmissionMode = .leased

    public enum AdmissionMode: String, Sendable { case leased, exact }
}

public struct ServerSettings: Sendable, Equatable {
    /// Largest accepted request body; larger gets 413 before any parsing.
    public var maxBodyBytes: Int
    /// Completion tokens reserved against tpm and budgets when a request sets no `max_tokens`.
    public var defaultMaxTokens: Int
}

public struct ProviderSettings: Sendable, Equatable {
    public var name: String
    public var kind: String
    /// Base URL without trailing slash, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// Name of the environment variable holding the provider's key; the key itself never
    /// appears in the policy, so policy files can be committed and shared.
    public var apiKeyEnv: String?
    public var timeout: TimeoutSettings
    /// PEM bundle of the certificate authorities to trust for this https provider instead of
    /// the system's (an internal model server with a private CA); resolved against the policy's
    /// folder.
    public var caFile: String? = nil
}

public struct TimeoutSettings: Sendable, Equatable {
    public var connectMs: Int
    public var firstByteMs: Int
    public var totalMs: Int
    /// A stream silent for this long is ended.
    public var idleMs: Int

    public static let `default` = TimeoutSettings(connectMs: 2000, firstByteMs: 30000, totalMs: 120000, idleMs: 30000)
}

public struct TargetSettings: Sendable, Equatable, Hashable {
    public var provider: String
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    /// Stable identifier for breakers and metrics.
    public var id: String { "\(provider)/\(model)" }
}

public struct VariantSettings: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public var targets: [TargetSettings]
    public var rollback: RollbackSettings?
}

public struct RollbackSettings: Sendable, Equatable {
    public var maxErrorRate: Double
    public var minRequests: Int
    public var windowSeconds: Int
}

public struct PriceSettings: Sendable, Equatable {
    public var inputPer1M: Double
    public var outputPer1M: Double

    /// Dollar cost of a request, for budgets.
    public func cost(promptTokens: Int, completionTokens: Int) -> Double {
        (Double(promptTokens) * inputPer1M + Double(completionTokens) * outputPer1M) / 1_000_000
    }
}

public struct ModelSettings: Sendable, Equatable {
    public enum Sticky: String, Sendable { case key, user, none }
    public var name: String
    /// One variant for a plain model; several for a canary split.
    public var variants: [VariantSettings]
    public var sticky: Sticky
    public var price: PriceSettings?
    /// Used when every target of this model has an open breaker.
    public var degradeTo: String?

    /// The first variant's targets, which is all a model without a canary has.
    public var primaryTargets: [TargetSettings] { variants.first?.targets ?? [] }
}

/// A model name that is answered by choosing another model from the prompt's complexity.
public struct RouterSettings: Sendable, Equatable {
    public struct Tier: Sendable, Equatable {
        public var maxScore: Double
        public var model: String
    }
    public var name: String
    /// Ascending by `maxScore`; the last tier catches everything above.
    public var tiers: [Tier]
    /// Feature weights by name; unknown names are refused at load.
    public var weights: [String: Double]
}

public struct BudgetSettings: Sendable, Equatable {
    public enum Period: String, Sendable { case daily, monthly, total }
    public var tokens: Int?
    public var usd: Double?
    public var period: Period
}

public struct TeamSettings: Sendable, Equatable {
    public var name: String
    public var rpm: Int?
    public var tpm: Int?
    public var budget: BudgetSettings?
    /// Models and aliases the team may use; nil means all.
    public var models: [String]?
    /// SHA-256 hex digests of static keys declared in the policy (demo and bootstrap use);
    /// admin-issued keys live in the state store.
    public var keyHashes: [String]
}

public struct CacheSettings: Sendable, Equatable {
    public var enabled: Bool
    public var ttlSeconds: Int
    public var deterministicOnly: Bool

    public init(enabled: Bool, ttlSeconds: Int, deterministicOnly: Bool) {
        self.enabled = enabled
        self.ttlSeconds = ttlSeconds
        self.deterministicOnly = deterministicOnly
    }
}

public struct ScreeningSettings: Sendable, Equatable {
    public enum InjectionAction: String, Sendable { case block, flag, off }
    public enum PIIAction: String, Sendable { case redact, block, allow }
    public var injectionAction: InjectionAction
    /// Absolute paths to injection rule packs.
    public var injectionPacks: [String]
    public var injectionThreshold: Double
    /// Absolute path to the PII pack, if any.
    public var piiPack: String?
    public var piiDefaultAction: PIIAction
    /// Entity types screened, with their action.
    public var piiEntities: [String: PIIAction]
    public var restore: Bool
    public var screenResponses: Bool
    /// Characters held back from a stream so an entity split across chunks is still caught.
    public var streamHoldback: Int

    public var isEnabled: Bool { injectionAction != .off || !piiEntities.isEmpty }
}

public struct BreakerSettings: Sendable, Equatable {
    public var failureThreshold: Int
    public var windowSeconds: Int
    public var cooldownSeconds: Int
    public var halfOpenProbes: Int
}

public struct RetrySettings: Sendable, Equatable {
    public var max: Int
    public var backoffMs: Int
}

public struct AuditSettings: Sendable, Equatable {
    public enum Fsync: String, Sendable { case always, batch, never }
    /// Absolute path of the audit journal; nil disables auditing.
    public var path: String?
    public var fsync: Fsync
}
