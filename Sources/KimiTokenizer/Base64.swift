/// Standard base64 (RFC 4648, with padding) decoding for `tiktoken.model` lines.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Decodes `text` into `out` (replacing its contents); false on invalid input.
    static func decode(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) -> Bool {
        out.removeAll(keepingCapacity: true)
        var chars = text
        while chars.last == UInt8(ascii: "=") { chars = chars.dropLast() }
        guard (text.count % 4 == 0) && text.count - chars.count <= 2 else { return false }
        var acc: UInt32 = 0, bits = 0
        for c in chars {
            let v = table[Int(c)]
            guard v != 0xFF else { return false }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        return true
    }
}
