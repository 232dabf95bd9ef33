/// Valid policies that probably do not do what their author meant: reported by `policy check` and
/// logged at start-up and on reload, never refused (an edit in flight must not take the gateway down).
public enum PolicyWarnings {
    public static func all(_ snapshot: PolicySnapshot) -> [String] {
        unpricedModelsUnderUSDBudgets(snapshot)
    }

    /// A model without `price` costs $0 against a dollar budget, so a team whose requests it serves
    /// can spend without limit: named per team, with the routers resolved to the models they pick.
    static func unpricedModelsUnderUSDBudgets(_ snapshot: PolicySnapshot) -> [String] {
        snapshot.teams.values.sorted { $0.name < $1.name }.compactMap { team -> String? in
            guard team.budget?.usd != nil else { return nil }
            var served: Set<String> = []
            for name in snapshot.allowedModels(for: team) {
                if let router = snapshot.routers[name] {
                    served.formUnion(router.tiers.map(\.model))
                } else if let target = snapshot.aliases[name] {
                    served.insert(target)
                } else {
                    served.insert(name)
                }
            }
            let unpriced = served.filter { snapshot.models[$0].map { $0.price == nil } ?? false }.sorted()
            guard !unpriced.isEmpty else { return nil }
            let names = unpriced.joined(separator: ", ")
            return "teams.\(team.name).budget.usd: \(names) \(unpriced.count == 1 ? "has" : "have") no price, "
                + "so \(unpriced.count == 1 ? "its" : "their") requests cost $0 against this budget"
        }
    }
}
