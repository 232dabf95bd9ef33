import ServiceLifecycle
import TollgateStore

/// Feeds the store's key invalidations (Redis pub/sub, or local revocations) into the cache.
struct KeyInvalidationService: Service {
    let store: any StateStore
    let authenticator: StoreAuthenticator

    func run() async throws {
        for await message in store.keyInvalidations().cancelOnGracefulShutdown() {
            authenticator.invalidate(message)
        }
        // The stream also ends when the store shuts down; returning before this service is told to
        // stop would make the service group treat it as a crash and fail the whole shutdown.
        try? await gracefulShutdown()
    }
}

/// Closes the store (flushing the embedded store's journal) when the server stops.
struct StateStoreService: Service {
    let store: any StateStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.shutdown()
    }
}
