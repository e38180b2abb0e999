@_spi(Testing) import KimiKernels
import Testing

@Suite struct ReadBandwidthTests {
    @Test("every pattern reads every block of a share exactly once", arguments: ReadPattern.all)
    func coverage(_ pattern: ReadPattern) {
        // Small integers: every partial sum is exact in Float, so any block read twice or
        // skipped changes the sum.
        let blocks = 203, floats = blocks * 64
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: floats)
        defer { buffer.deallocate() }
        for i in 0..<floats { buffer[i] = Float((i * 7) % 101) }
        for range in [0..<blocks, 5..<blocks, 3..<4, 17..<151] {
            let expected = (range.lowerBound * 64..<range.upperBound * 64).reduce(0.0) { $0 + Double(buffer[$1]) }
            #expect(Double(ReadBandwidth.sum(UnsafeRawPointer(buffer), blocks: range, pattern)) == expected, "\(pattern), \(range)")
        }
    }

    @Test("a reading is the fastest of its patterns")
    func best() {
        let reading = ReadBandwidth(bytes: 8 << 20, pool: ThreadPool(threads: 2)).measure()
        #expect(reading.byPattern.count == ReadPattern.all.count && reading.byPattern.allSatisfy { $0 > 0 })
        #expect(reading.bytesPerSecond == reading.byPattern.max())
        #expect(reading.pattern == ReadPattern.all[reading.best])
    }
}
