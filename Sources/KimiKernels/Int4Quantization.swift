/// Float weights to compressed-tensors "pack-quantized" int4 with BF16 scales, computed as its
/// observer and quantiser compute them (calculate_qparams, then quantize and pack_to_int32):
/// per group of `groupSize` columns, scale = max|w| / 7.5 (the largest magnitude over half the
/// 16-level range; 2^-23, float32's epsilon, for an all-zero group) rounded to bfloat16, and
/// code = clamp(round-half-even(w / scale), −8, 7) + 8, eight codes per little-endian int32,
/// column c in bits 4·(c % 8).
public enum Int4Quantization {
    /// One row: w (cols) → packed (4·ceil(cols/8) bytes), scales (cols / groupSize BF16 bit
    /// patterns). cols: a multiple of groupSize.
    public static func quantizeRow(
        _ w: UnsafePointer<Float>, cols: Int, groupSize: Int, packed: UnsafeMutableRawPointer, scales: UnsafeMutablePointer<UInt16>
    ) {
        packed.initializeMemory(as: UInt8.self, repeating: 0, count: 4 * ((cols + 7) / 8))
        for g in 0..<cols / groupSize {
            let start = g * groupSize
            var amax: Float = 0
            for c in start..<start + groupSize { amax = max(amax, abs(w[c])) }
            let observed = amax / 7.5
            let bits = bf16Bits(observed == 0 ? Float.ulpOfOne : observed)
            scales[g] = bits
            let scale = Float(bitPattern: UInt32(bits) << 16)
            for c in start..<start + groupSize {
                let q = min(max((w[c] / scale).rounded(.toNearestOrEven), -8), 7)
                let code = UInt8(Int(q) + 8)
                let byte = packed.load(fromByteOffset: c / 2, as: UInt8.self)
                packed.storeBytes(of: byte | code << (4 * (c % 2)), toByteOffset: c / 2, as: UInt8.self)
            }
        }
    }

    /// x rounded to bfloat16 (nearest, ties to even), as its bit pattern; x finite.
    static func bf16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ (bits >> 16 & 1)) >> 16)
    }
}
