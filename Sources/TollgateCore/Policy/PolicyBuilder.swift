import Yams

/// Builds each section of a snapshot from the YAML tree, applying defaults and cross-checks.
struct PolicyBuilder {
    let reader: YAMLReader
    let baseDirectory: String

    private static let topLevel: Set<String> = [
        "version", "state", "server", "providers", "models", "routing", "teams", "cache", "screening",
        "circuit_breaker", "retries", "audit",
    ]

    func build(root: Node, sourcePath: String) -> PolicySnapshot {
        let top = reader.mapping(root, at: "policy", allowed: Self.topLevel)
        let version = reader.int(top["version"], at: "version", min: 1) ?? 1
        if version != 1 { reader.issue(top["version"], "unsupported policy version \(version); this gateway reads version 1") }
        let providers = buildProviders(top["providers"])
        let (models, order) = buildModels(top["models"], providers: providers)
        let (routers, aliases) = buildRouting(top["routing"], models: models)
        let teams = buildTeams(top["teams"], known: Set(models.keys).union(routers.keys).union(aliases.keys))
        checkDegrade(models, node: top["models"])
        if providers.isEmpty { reader.issue(top["providers"] ?? root, "policy declares no providers") }
        if models.isEmpty { reader.issue(top["models"] ?? root, "policy declares no models") }
        var snapshot = PolicySnapshot(
            version: version,
            sourcePath: sourcePath,
            state: buildState(top["state"]),
            server: buildServer(top["server"]),
            providers: providers,
            models: models,
            modelOrder: order,
            routers: routers,
            aliases: aliases,
            teams: teams,
            cache: buildCache(top["cache"]),
            screening: buildScreening(top["screening"]),
            circuitBreaker: buildBreaker(top["circuit_breaker"]),
            retries: buildRetries(top["retries"]),
            audit: buildAudit(top["audit"]))
        for team in teams.values {
            for hash in team.keyHashes {
                if let other = snapshot.staticKeyTeams[hash], other != team.name {
                    reader.issue(top["teams"], "the same key is listed for teams `\(other)` and `\(team.name)`")
                }
                snapshot.staticKeyTeams[hash] = team.name
            }
        }
        return snapshot
    }

    private func buildState(_ node: Node?) -> StateSettings {
        let map = reader.mapping(node, at: "state", allowed: ["backend", "url", "on_unavailable", "admission"])
        let backend = reader.oneOf(map["backend"], at: "state.backend", ["memory", "redis"]).flatMap(StateSettings.Backend.init) ?? .memory
        let url = reader.string(map["url"], at: "state.url")
        if let url, !url.hasPrefix("redis://"), !url.hasPrefix("unix://") {
            reader.issue(map["url"], "state.url must start with redis:// (or unix:// for a socket)")
        }
        // `backend: redis` without `url` is valid: the URL may come from `--redis` or
        // TOLLGATE_REDIS_URL (keeping the password out of the file); `serve` refuses to start
        // when it is given nowhere (StateStoreFactory).
        let mode = reader.oneOf(map["on_unavailable"], at: "state.on_unavailable", ["fail_open", "fail_closed"])
            .flatMap(StateSettings.FailMode.init) ?? .failClosed
        let admission = reader.oneOf(map["admission"], at: "state.admission", ["leased", "exact"])
            .flatMap(StateSettings.AdmissionMode.init) ?? .leased
        return StateSettings(backend: backend, url: url, onUnavailable: mode, admission: admission)
    }

    private func buildServer(_ node: Node?) -> ServerSettings {
        let map = reader.mapping(node, at: "server", allowed: ["max_body_bytes", "default_max_tokens"])
        return ServerSettings(
            maxBodyBytes: reader.int(map["max_body_bytes"], at: "server.max_body_bytes", min: 1024) ?? 4 * 1024 * 1024,
            defaultMaxTokens: reader.int(map["default_max_tokens"], at: "server.default_max_tokens", min: 0) ?? 1024)
    }

    private func buildProviders(_ node: Node?) -> [String: ProviderSettings] {
        var result: [String: ProviderSettings] = [:]
        for (name, _, value) in reader.namedEntries(node, at: "providers") {
            let path = "providers.\(name)"
            let map = reader.mapping(value, at: path, allowed: ["kind", "base_url", "api_key_env", "timeout", "ca_file"])
            let kind = reader.oneOf(map["kind"], at: "\(path).kind", ["openai"]) ?? "openai"
            guard let base = reader.string(map["base_url"], at: "\(path).base_url") else {
                reader.issue(value, "\(path).base_url is required")
                continue
            }
            if !(base.hasPrefix("http://") || base.hasPrefix("https://")) {
                reader.issue(map["base_url"], "\(path).base_url must start with http:// or https://")
            }
            let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
            result[name] = ProviderSettings(
                name: name, kind: kind, baseURL: trimmed,
                apiKeyEnv: reader.string(map["api_key_env"], at: "\(path).api_key_env"),
                timeout: buildTimeout(map["timeout"], at: "\(path).timeout"),
                caFile: reader.string(map["ca_file"], at: "\(path).ca_file").map { PolicyPath.resolve($0, against: baseDirectory) })
            if map["ca_file"] != nil, !base.hasPrefix("https://") {
                reader.issue(map["ca_file"], "\(path).ca_file only applies to https:// providers")
            }
        }
        return result
    }

    private func buildTimeout(_ node: Node?, at path: String) -> TimeoutSettings {
        let map = reader.mapping(node, at: path, allowed: ["connect_ms", "first_byte_ms", "total_ms", "idle_ms"])
        let d = TimeoutSettings.default
        let total = reader.int(map["total_ms"], at: "\(path).total_ms", min: 1) ?? d.totalMs
        return TimeoutSettings(
            connectMs: reader.int(map["connect_ms"], at: "\(path).connect_ms", min: 1) ?? d.connectMs,
            firstByteMs: reader.int(map["first_byte_ms"], at: "\(path).first_byte_ms", min: 1) ?? min(d.firstByteMs, total),
            totalMs: total,
            idleMs: reader.int(map["idle_ms"], at: "\(path).idle_ms", min: 1) ?? d.idleMs)
    }

    private func buildTargets(_ node: Node?, at path: String, providers: [String: ProviderSettings]) -> [TargetSettings] {
        let items = reader.sequence(node, at: path)
        if node != nil && items.isEmpty { reader.issue(node, "\(path) must list at least one target") }
        return items.compactMap { item in
            let map = reader.mapping(item, at: "\(path)[]", allowed: ["provider", "model"])
            guard let provider = reader.string(map["provider"], at: "\(path)[].provider"),
                let model = reader.string(map["model"], at: "\(path)[].model")
            else {
                reader.issue(item, "\(path)[] needs provider and model")
                return nil
            }
            if providers[provider] == nil { reader.issue(map["provider"], "unknown provider `\(provider)` in \(path)") }
            return TargetSettings(provider: provider, model: model)
        }
    }

    private func buildModels(_ node: Node?, providers: [String: ProviderSettings]) -> ([String: ModelSettings], [String]) {
        var result: [String: ModelSettings] = [:]
        var order: [String] = []
        for (name, keyNode, value) in reader.namedEntries(node, at: "models") {
            let path = "models.\(name)"
            if name == "auto" { reader.issue(keyNode, "`auto` is reserved for complexity routing; declare it under routing") }
            let map = reader.mapping(value, at: path, allowed: ["targets", "variants", "sticky", "price", "degrade_to"])
            var variants: [VariantSettings] = []
            switch (map["targets"], map["variants"]) {
            case (.some, .some):
                reader.issue(value, "\(path) has both targets and variants; use one")
            case (.some(let targets), nil):
                variants = [VariantSettings(name: "primary", weight: 1, targets: buildTargets(targets, at: "\(path).targets", providers: providers), rollback: nil)]
            case (nil, .some(let variantNodes)):
                variants = buildVariants(variantNodes, at: "\(path).variants", providers: providers)
            case (nil, nil):
                reader.issue(value, "\(path) needs targets or variants")
            }
            let sticky = reader.oneOf(map["sticky"], at: "\(path).sticky", ["key", "user", "none"]).flatMap(ModelSettings.Sticky.init) ?? .key
            result[name] = ModelSettings(
                name: name, variants: variants, sticky: sticky, price: buildPrice(map["price"], at: "\(path).price"),
                degradeTo: reader.string(map["degrade_to"], at: "\(path).degrade_to"))
            order.append(name)
        }
        return (result, order)
    }

    private func buildVariants(_ node: Node, at path: String, providers: [String: ProviderSettings]) -> [VariantSettings] {
        let items = reader.sequence(node, at: path)
        var variants: [VariantSettings] = []
        for (index, item) in items.enumerated() {
            let map = reader.mapping(item, at: "\(path)[\(index)]", allowed: ["name", "weight", "targets", "rollback"])
            let weight = reader.int(map["weight"], at: "\(path)[\(index)].weight", min: 0)
            if map["weight"] == nil { reader.issue(item, "\(path)[\(index)].weight is required") }
            let targets = buildTargets(map["targets"], at: "\(path)[\(index)].targets", providers: providers)
            if map["targets"] == nil { reader.issue(item, "\(path)[\(index)].targets is required") }
            let name = reader.string(map["name"], at: "\(path)[\(index)].name") ?? (targets.first?.model ?? "v\(index)")
            variants.append(VariantSettings(
                name: name, weight: weight ?? 0, targets: targets,
                rollback: buildRollback(map["rollback"], at: "\(path)[\(index)].rollback")))
        }
        if items.isEmpty { reader.issue(node, "\(path) must list at least one variant") }
        if !items.isEmpty && variants.reduce(0, { $0 + $1.weight }) == 0 {
            reader.issue(node, "\(path) weights sum to 0; at least one variant needs a positive weight")
        }
        return variants
    }

    private func buildRollback(_ node: Node?, at path: String) -> RollbackSettings? {
        guard let node else { return nil }
        let map = reader.mapping(node, at: path, allowed: ["max_error_rate", "min_requests", "window_s"])
        let rate = reader.double(map["max_error_rate"], at: "\(path).max_error_rate") ?? 0.5
        if rate > 1 { reader.issue(map["max_error_rate"], "\(path).max_error_rate must be between 0 and 1") }
        return RollbackSettings(
            maxErrorRate: rate,
            minRequests: reader.int(map["min_requests"], at: "\(path).min_requests", min: 1) ?? 20,
            windowSeconds: reader.int(map["window_s"], at: "\(path).window_s", min: 1) ?? 60)
    }

    private func buildPrice(_ node: Node?, at path: String) -> PriceSettings? {
        guard let node else { return nil }
        let map = reader.mapping(node, at: path, allowed: ["input_per_1m", "output_per_1m"])
        return PriceSettings(
            inputPer1M: reader.double(map["input_per_1m"], at: "\(path).input_per_1m") ?? 0,
            outputPer1M: reader.double(map["output_per_1m"], at: "\(path).output_per_1m") ?? 0)
    }

    private func checkDegrade(_ models: [String: ModelSettings], node: Node?) {
        for model in models.values {
            if let target = model.degradeTo, models[target] == nil {
                reader.issue(node, "models.\(model.name).degrade_to names unknown model `\(target)`")
            }
        }
    }

    private static let featureNames: Set<String> = [
        "length", "questions", "instructions", "code", "math", "reasoning", "depth", "tools", "max_tokens",
    ]

    /// Routers (a mapping: complexity tiers) and plain aliases (a model name) under `routing`.
    private func buildRouting(_ node: Node?, models: [String: ModelSettings]) -> ([String: RouterSettings], [String: String]) {
        var result: [String: RouterSettings] = [:]
        var aliases: [String: String] = [:]
        for (name, keyNode, value) in reader.namedEntries(node, at: "routing") {
            let path = "routing.\(name)"
            if models[name] != nil { reader.issue(keyNode, "router `\(name)` has the same name as a model") }
            if case .scalar = value {
                guard let target = reader.string(value, at: path) else { continue }
                if name == "auto" { reader.issue(value, "`auto` is the complexity router; give it simple/complex/threshold or tiers") }
                if models[target] == nil { reader.issue(value, "alias \(path) names unknown model `\(target)`") }
                aliases[name] = target
                continue
            }
            let map = reader.mapping(value, at: path, allowed: ["simple", "complex", "threshold", "tiers", "weights"])
            var tiers: [RouterSettings.Tier] = []
            if let tierNodes = map["tiers"] {
                if map["simple"] != nil || map["complex"] != nil {
                    reader.issue(value, "\(path) uses tiers; drop simple/complex/threshold")
                }
                for item in reader.sequence(tierNodes, at: "\(path).tiers") {
                    let tier = reader.mapping(item, at: "\(path).tiers[]", allowed: ["max_score", "model"])
                    guard let model = reader.string(tier["model"], at: "\(path).tiers[].model") else {
                        reader.issue(item, "\(path).tiers[] needs a model")
                        continue
                    }
                    let maxScore = reader.double(tier["max_score"], at: "\(path).tiers[].max_score") ?? 1.0
                    if models[model] == nil { reader.issue(tier["model"], "unknown model `\(model)` in \(path).tiers") }
                    tiers.append(.init(maxScore: maxScore, model: model))
                }
                if tiers.isEmpty { reader.issue(tierNodes, "\(path).tiers must list at least one tier") }
                if zip(tiers, tiers.dropFirst()).contains(where: { $0.maxScore >= $1.maxScore }) {
                    reader.issue(tierNodes, "\(path).tiers must be in ascending max_score order")
                }
            } else {
                let simple = reader.string(map["simple"], at: "\(path).simple")
                let complex = reader.string(map["complex"], at: "\(path).complex")
                let threshold = reader.double(map["threshold"], at: "\(path).threshold")
                if simple == nil || complex == nil { reader.issue(value, "\(path) needs simple and complex models (or tiers)") }
                if map["threshold"] == nil { reader.issue(value, "\(path) is missing threshold") }
                if let threshold, threshold > 1 { reader.issue(map["threshold"], "\(path).threshold must be between 0 and 1") }
                for (field, model) in [("simple", simple), ("complex", complex)] {
                    if let model, models[model] == nil { reader.issue(map[field], "unknown model `\(model)` in \(path).\(field)") }
                }
                if let simple, let complex, let threshold {
                    tiers = [.init(maxScore: threshold, model: simple), .init(maxScore: 1.0, model: complex)]
                }
            }
            var weights: [String: Double] = [:]
            for (feature, featureKey, weightNode) in reader.namedEntries(map["weights"], at: "\(path).weights") {
                if !Self.featureNames.contains(feature) {
                    reader.issue(featureKey, "unknown feature `\(feature)` in \(path).weights (known: \(Self.featureNames.sorted().joined(separator: ", ")))")
                }
                weights[feature] = reader.double(weightNode, at: "\(path).weights.\(feature)")
            }
            // Listed weights override the defaults, so it is the merged set that must not sum to 0
            // (turning one feature off with `length: 0` is fine).
            let merged = ComplexityWeights.overriding(weights).weights
            if map["weights"] != nil && ComplexityFeatureName.allCases.reduce(0, { $0 + max(0, merged[$1]) }) <= 0 {
                reader.issue(map["weights"], "\(path).weights sum to 0")
            }
            result[name] = RouterSettings(name: name, tiers: tiers, weights: weights)
        }
        return (result, aliases)
    }

    private func buildTeams(_ node: Node?, known: Set<String>) -> [String: TeamSettings] {
        var result: [String: TeamSettings] = [:]
        for (name, _, value) in reader.namedEntries(node, at: "teams") {
            let path = "teams.\(name)"
            let map = reader.mapping(value, at: path, allowed: ["rpm", "tpm", "budget", "models", "keys"])
            let models = reader.stringList(map["models"], at: "\(path).models")
            for model in models ?? [] where !known.contains(model) {
                reader.issue(map["models"], "unknown model `\(model)` in \(path).models")
            }
            let hashes = reader.stringList(map["keys"], at: "\(path).keys") ?? []
            for hash in hashes where !Self.isSHA256Hex(hash) {
                reader.issue(map["keys"], "\(path).keys entries must be SHA-256 hex digests of keys, never the keys themselves")
            }
            result[name] = TeamSettings(
                name: name,
                rpm: reader.int(map["rpm"], at: "\(path).rpm", min: 1, max: LimitBounds.maximumRate),
                tpm: reader.int(map["tpm"], at: "\(path).tpm", min: 1, max: LimitBounds.maximumRate),
                budget: buildBudget(map["budget"], at: "\(path).budget"),
                models: models,
                keyHashes: hashes.map { $0.lowercased() })
        }
        return result
    }

    private static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
    }

    private func buildBudget(_ node: Node?, at path: String) -> BudgetSettings? {
        guard let node else { return nil }
        let map = reader.mapping(node, at: path, allowed: ["tokens", "usd", "period"])
        let tokens = reader.int(map["tokens"], at: "\(path).tokens", min: 1, max: LimitBounds.maximumBudgetTokens)
        let usd = reader.double(map["usd"], at: "\(path).usd", max: LimitBounds.maximumBudgetUSD)
        if tokens == nil && usd == nil { reader.issue(node, "\(path) needs tokens or usd") }
        let period = reader.oneOf(map["period"], at: "\(path).period", ["daily", "monthly", "total"]).flatMap(BudgetSettings.Period.init) ?? .monthly
        return BudgetSettings(tokens: tokens, usd: usd, period: period)
    }

    private func buildCache(_ node: Node?) -> CacheSettings {
        let map = reader.mapping(node, at: "cache", allowed: ["enabled", "ttl_s", "deterministic_only"])
        return CacheSettings(
            enabled: reader.bool(map["enabled"], at: "cache.enabled") ?? false,
            ttlSeconds: reader.int(map["ttl_s"], at: "cache.ttl_s", min: 1) ?? 3600,
            deterministicOnly: reader.bool(map["deterministic_only"], at: "cache.deterministic_only") ?? true)
    }

    static let piiTypes = ["EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS", "SECRET"]

    private func buildScreening(_ node: Node?) -> ScreeningSettings {
        let map = reader.mapping(node, at: "screening", allowed: ["injection", "pii", "responses", "stream_holdback_chars"])
        let inj = reader.mapping(map["injection"], at: "screening.injection", allowed: ["action", "packs", "threshold"])
        let pii = reader.mapping(map["pii"], at: "screening.pii", allowed: ["action", "entities", "actions", "pack", "restore"])
        let injectionAction = map["injection"] == nil
            ? .off
            : reader.oneOf(inj["action"], at: "screening.injection.action", ["block", "flag", "off"]).flatMap(ScreeningSettings.InjectionAction.init) ?? .block
        let packs = (reader.stringList(inj["packs"], at: "screening.injection.packs") ?? (map["injection"] == nil ? [] : ["packs/injection.yaml"]))
            .map { PolicyPath.resolve($0, against: baseDirectory) }
        let defaultAction = reader.oneOf(pii["action"], at: "screening.pii.action", ["redact", "block", "allow"]).flatMap(ScreeningSettings.PIIAction.init) ?? .redact
        var entities: [String: ScreeningSettings.PIIAction] = [:]
        if map["pii"] != nil {
            for type in reader.stringList(pii["entities"], at: "screening.pii.entities") ?? Self.piiTypes {
                if Self.piiTypes.contains(type) { entities[type] = defaultAction } else {
                    reader.issue(pii["entities"], "unknown PII type `\(type)` (known: \(Self.piiTypes.joined(separator: ", ")))")
                }
            }
            for (type, typeKey, actionNode) in reader.namedEntries(pii["actions"], at: "screening.pii.actions") {
                guard Self.piiTypes.contains(type) else {
                    reader.issue(typeKey, "unknown PII type `\(type)` in screening.pii.actions")
                    continue
                }
                entities[type] = reader.oneOf(actionNode, at: "screening.pii.actions.\(type)", ["redact", "block", "allow"]).flatMap(ScreeningSettings.PIIAction.init)
            }
        }
        let piiPack = map["pii"] == nil ? nil : PolicyPath.resolve(reader.string(pii["pack"], at: "screening.pii.pack") ?? "packs/pii.yaml", against: baseDirectory)
        return ScreeningSettings(
            injectionAction: injectionAction,
            injectionPacks: packs,
            injectionThreshold: reader.double(inj["threshold"], at: "screening.injection.threshold") ?? 1.0,
            piiPack: piiPack,
            piiDefaultAction: defaultAction,
            piiEntities: entities.filter { $0.value != .allow },
            restore: reader.bool(pii["restore"], at: "screening.pii.restore") ?? false,
            screenResponses: reader.bool(map["responses"], at: "screening.responses") ?? true,
            streamHoldback: reader.int(map["stream_holdback_chars"], at: "screening.stream_holdback_chars", min: 0) ?? 64)
    }

    private func buildBreaker(_ node: Node?) -> BreakerSettings {
        let map = reader.mapping(node, at: "circuit_breaker", allowed: ["failure_threshold", "window_s", "cooldown_s", "half_open_probes"])
        return BreakerSettings(
            failureThreshold: reader.int(map["failure_threshold"], at: "circuit_breaker.failure_threshold", min: 1) ?? 5,
            windowSeconds: reader.int(map["window_s"], at: "circuit_breaker.window_s", min: 1) ?? 30,
            cooldownSeconds: reader.int(map["cooldown_s"], at: "circuit_breaker.cooldown_s", min: 0) ?? 15,
            halfOpenProbes: reader.int(map["half_open_probes"], at: "circuit_breaker.half_open_probes", min: 1) ?? 1)
    }

    private func buildRetries(_ node: Node?) -> RetrySettings {
        let map = reader.mapping(node, at: "retries", allowed: ["max", "backoff_ms"])
        return RetrySettings(
            max: reader.int(map["max"], at: "retries.max", min: 0) ?? 2,
            backoffMs: reader.int(map["backoff_ms"], at: "retries.backoff_ms", min: 0) ?? 100)
    }

    private func buildAudit(_ node: Node?) -> AuditSettings {
        let map = reader.mapping(node, at: "audit", allowed: ["path", "fsync"])
        let path = reader.string(map["path"], at: "audit.path").map { PolicyPath.resolve($0, against: baseDirectory) }
        let fsync = reader.oneOf(map["fsync"], at: "audit.fsync", ["always", "batch", "never"]).flatMap(AuditSettings.Fsync.init) ?? .batch
        return AuditSettings(path: path, fsync: fsync)
    }
}
