/// y += a·x. y, x: (n).
@inline(__always)
public func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, n: Int) {
    let yr = UnsafeMutableRawPointer(y), xr = UnsafeRawPointer(x)
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= n {
        let v = yr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        yr.storeBytes(
            of: v.addingProduct(xr.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), av), toByteOffset: 4 * i,
            as: SIMD8<Float>.self)
        i += 8
    }
    while i < n {
        y[i] = y[i].addingProduct(x[i], a)
        i += 1
    }
}

/// Float → bf16 bits, rounding to nearest even (NaN stays NaN).
@inline(__always)
public func bf16(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    if x.isNaN { return UInt16(bits >> 16) | 0x40 }
    return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
}
