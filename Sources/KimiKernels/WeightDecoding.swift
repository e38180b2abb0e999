import CKimiKernels

/// How a weight dtype turns into Float, eight lanes or one at a time. The kernels are generic
/// over this and specialised per dtype inside this module (each conformer is a caseless enum
/// with inlinable static functions, so there is no dispatch in the inner loops).
protocol WeightDecoding {
    /// Bytes per element.
    static var size: Int { get }
    /// Elements `index ..< index + 8` of a row starting at `p`, decoded (fp8: times 2^-120).
    static func load8(_ p: UnsafeRawPointer, _ index: Int) -> SIMD8<Float>
    /// Element `index` of a row starting at `p`, decoded like `load8`.
    static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float
    /// This dtype's row in CKimiKernels' table of wide passes (`kimi_wide_pass`).
    static var widePasses: Int32 { get }
}

enum FP8Decoding: WeightDecoding {
    static var size: Int { 1 }
    static var widePasses: Int32 { 0 }
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> { fp8Scaled8(p + index) }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        fp8Scaled(p.load(fromByteOffset: index, as: UInt8.self))
    }
}

enum BF16Decoding: WeightDecoding {
    static var size: Int { 2 }
    static var widePasses: Int32 { 1 }
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
        kimi_bf16x8(p + 2 * index)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)) << 16)
    }
}

enum F16Decoding: WeightDecoding {
    static var size: Int { 2 }
    static var widePasses: Int32 { 2 }
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
        kimi_f16x8(p + 2 * index)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        Float(p.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
    }
}

enum F32Decoding: WeightDecoding {
    static var size: Int { 4 }
    static var widePasses: Int32 { 3 }
    @inline(__always) static func load8(_ p: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
        (p + 4 * index).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) static func load1(_ p: UnsafeRawPointer, _ index: Int) -> Float {
        p.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
    }
}
