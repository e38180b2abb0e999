import Foundation

/// The kernels are compiled for x86-64-v3 (AVX2, FMA, F16C); on an older CPU they would die
/// with SIGILL, so compute commands check first and say so.
public enum CPUFeatures {
    public static let required = ["avx2", "fma", "f16c"]

    /// The required features this CPU lacks (empty when it has them all, or on non-x86 hosts,
    /// where the compiler targets the native SIMD instead).
    public static func missing() -> [String] {
        #if arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return [] }
        let flags = Set(line.split(separator: " ").map(String.init))
        return required.filter { !flags.contains($0) }
        #else
        return []
        #endif
    }
}
