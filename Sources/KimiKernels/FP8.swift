import CKimiKernels

// float8_e4m3fn (1 sign, 4 exponent bits with bias 7, 3 mantissa bits, no infinities; 0x7F and
// 0xFF are NaN) decoded with integer operations only:
// sign-extend the byte to 32 bits, shift left by 20 and keep the sign, exponent and mantissa
// bits (mask 0x87F00000). The result, read as a Float, is the fp8 value times 2^-120, exactly,
// for every non-NaN code including the subnormals (which become Float subnormals). Kernels fold
// the 2^120 back into the per-block scale.

/// The fp8 value of a code times 2^-120: the kernels' form.
@inline(__always)
func fp8Scaled(_ code: UInt8) -> Float {
    Float(bitPattern: (UInt32(bitPattern: Int32(Int8(bitPattern: code))) << 20) & 0x87F0_0000)
}

/// Eight consecutive codes times 2^-120 (vpmovsxbd, vpslld, vpand; in CKimiKernels because
/// Swift's generic SIMD8<Int32>(truncatingIfNeeded:) is not inlined into the loops).
@inline(__always)
func fp8Scaled8(_ p: UnsafeRawPointer) -> SIMD8<Float> {
    kimi_fp8x8_scaled(p)
}

/// The exact value of one float8_e4m3fn code (0x7F / 0xFF, the NaN codes, decode to ±480).
public func fp8E4M3ToFloat(_ code: UInt8) -> Float {
    fp8Scaled(code) * 0x1p120
}

/// Kernels over fp8 weights fold this into each block scale they multiply the input by, so
/// that (value × 2^-120) × input never underflows into Float subnormals, and multiply each
/// result by `fp8OutputScale`. Exact: both factors are powers of two.
/// Rows and columns per block-fp8 scale (`weight_block_size`; only 128 × 128 exists in the wild).
public let fp8Block = 128

let fp8InputScale: Float = 0x1p60
/// What a sum of (value · 2^-120) · (input · 2^60) products is multiplied by: exact.
let fp8OutputScale: Float = 0x1p60
