/// Rotates interleaved pairs (x[2i], x[2i+1]) by the angle whose cosine and sine are
/// cos[i], sin[i] (DeepSeek-V3's RoPE layout, as its model.py `apply_rotary_emb` on complex pairs). x: (2·half); cos, sin: (half).
public func ropeInterleaved(_ x: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, half: Int) {
    for i in 0..<half {
        let a = x[2 * i], b = x[2 * i + 1]
        x[2 * i] = a * cos[i] - b * sin[i]
        x[2 * i + 1] = b * cos[i] + a * sin[i]
    }
}
