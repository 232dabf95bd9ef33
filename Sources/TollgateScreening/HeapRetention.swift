#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed heap memory in the process for the next screen instead of handing it back to the kernel.
///
/// Screening a long message builds several short-lived copies of it (the normalizer's views, the PII
/// view): about ten times its size, freed together when the screen ends. glibc gives the top of the heap
/// back to the kernel whenever more than 128 KB of it is free, so every long screen faulted those pages
/// in again (some 200 page faults, a tenth of the CPU time of a 100 KB screen). With these thresholds
/// up to 64 MB of free heap is kept for reuse, and copies of messages up to 8 MB come from the heap
/// rather than from a fresh `mmap` each time. Process-wide, set once when the first engine is built.
enum HeapRetention {
    static let isConfigured: Bool = {
        #if canImport(Glibc)
        // `mallopt` and its parameters live in <malloc.h>, which the Glibc module does not export:
        // looked up by name, with the values glibc's header gives them.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        return mallopt(trimThreshold, 64 << 20) == 1 && mallopt(mmapThreshold, 8 << 20) == 1
        #else
        return false
        #endif
    }()
}
