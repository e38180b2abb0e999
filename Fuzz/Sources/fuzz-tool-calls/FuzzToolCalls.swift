import FuzzSupport
import KimiTokenizer

// The tool-call parsers on arbitrary output ids of a Kimi-format vocabulary (two bytes an id;
// with the high bit set, one of the special ids, so markers come often). Properties:
// - the streaming parser fed token by token gives the batch parser's content and calls;
// - the same text as ordinary tokens only (marker characters spelled out) gives no call and
//   that text as content: only the markers' special tokens open a call.
private let tokenizer = try! Tokenizer(directory: Fuzz.fixture("tokenizer"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzToolCalls(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let specials = tokenizer.vocabSize - tokenizer.mergeableCount
    let ids = stride(from: 0, to: size - 1, by: 2).map { i -> Int in
        let v = Int(data[i]) << 8 | Int(data[i + 1])
        return v & 0x8000 != 0 ? tokenizer.mergeableCount + v % specials : v % tokenizer.mergeableCount
    }
    let pieces = tokenizer.decodeOutput(ids)
    let batch = ToolCallParser.parse(pieces)

    var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer)
    var parser = StreamingToolCallParser()
    var events: [StreamingToolCallParser.Event] = []
    for id in ids { events += parser.feed(detokenizer.append(id)) }
    let rest = detokenizer.finish()
    if !rest.isEmpty { events += parser.feed([.text(rest)]) }
    events += parser.finish()
    Fuzz.check(StreamingToolCallParser.collect(events) == batch, "streaming and batch parses differ")

    let text = pieces.text
    let spelled = ToolCallParser.parse(tokenizer.decodeOutput(tokenizer.encodeOrdinary(text)))
    Fuzz.check(spelled.toolCalls.isEmpty, "ordinary tokens opened a call: \(Fuzz.show(text))")
    Fuzz.check(spelled.content == text, "ordinary tokens' content \(Fuzz.show(spelled.content)) is not their text \(Fuzz.show(text))")
    return 0
}
