/// Element types of safetensors tensors. The model computes with the first four; the others are
/// parsed so that a header naming them is validated, then rejected where a weight needs a float.
public enum DType: String, Sendable, CaseIterable {
    case f8e4m3 = "F8_E4M3"
    case bf16 = "BF16"
    case f16 = "F16"
    case f32 = "F32"
    case f8e5m2 = "F8_E5M2"
    case f64 = "F64"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f8e4m3, .f8e5m2, .i8, .u8, .bool: return 1
        case .bf16, .f16, .i16, .u16: return 2
        case .f32, .i32, .u32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}
