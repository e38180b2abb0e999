import CKimiKernels

/// The kernels every weight product runs: AVX2's, with sixteen vector registers and eight-lane
/// FMA chains (GEMV.swift, BatchGEMV.swift, GEMM.swift), or AVX-512's wide passes, with thirty-two registers of
/// 512 bits and sixteen-lane chains (WidePasses.swift). Each gives every (token, row) one
/// arithmetic whatever the batch; the two give different bits.
public enum VectorRegisters: Sendable {
    case sixteen, thirtyTwo
    /// What this CPU and OS provide.
    public static let available: VectorRegisters = kimi_has_avx512() != 0 ? .thirtyTwo : .sixteen
}
