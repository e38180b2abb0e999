import CKimiKernels

/// Float weights to compressed-tensors "pack-quantized" int4 with BF16 scales, computed as its
/// observer and quantiser compute them (calculate_qparams, then quantize and pack_to_int32):
/// per group of `groupSize` columns, scale = max|w| / 7.5 (the largest magnitude over half the
/// 16-level range; 2^-23, float32's epsilon, for an all-zero group) rounded to bfloat16, and
/// code = clamp(round-half-even(w / scale), −8, 7) + 8, eight codes per little-endian int32,
/// column c in bits 4·(c % 8).
public enum Int4Quantization {
    /// One row: w (cols) → packed (cols / 2 bytes), scales (cols / groupSize BF16 bit
    /// patterns). groupSize: a multiple of 8 dividing cols.
    public static func quantizeRow(
        _ w: UnsafePointer<Float>, cols: Int, groupSize: Int, packed: UnsafeMutableRawPointer, scales: UnsafeMutablePointer<UInt16>
    ) {
        kimi_int4_quantize_row(w, cols, groupSize, packed, scales)
    }
}
