import FuzzSupport
import KimiConstraints
import KimiJSON
import KimiTokenizer

// A JSON Schema and a document, separated by the first NUL byte: the schema is compiled (not
// strict; refusal is fine), the document is tokenized as the model would write it and walked
// token by token. What must hold:
// - the mask equals the byte-by-byte reference: a token is in it exactly when `accept` takes it;
// - there are no dead ends: after every token taken, some token (or the end) is allowed.
private let tokenizer = try! Tokenizer(directory: Fuzz.fixture("checkpoints/kimi-mini"))
private let vocabulary = ConstraintVocabulary(tokenizer: tokenizer)
private let end = tokenizer.specialId("<|im_end|>")!

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConstraints(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let cut = bytes.firstIndex(of: 0) else { return 0 }
    guard let schema = try? JSONParser.parse(Array(bytes[..<cut])), let compiled = try? CompiledSchema.compile(schema, strict: false) else {
        return 0
    }
    let grammar = Grammar(content: .json(compiled), calls: .forbidden, functions: [], parallel: false, firstIndex: 0)
    var constraint = Constraint(grammar, vocabulary: vocabulary, tokenizer: tokenizer, endTokens: [end])
    let ids = tokenizer.encodeOrdinary(String(decoding: bytes[(cut + 1)...], as: UTF8.self)).prefix(200)
    for id in ids {
        guard case let .only(mask) = constraint.allowed() else { Fuzz.fail("a JSON grammar allowed every token") }
        Fuzz.check(!mask.isEmpty, "a dead end: no token allowed")
        // The reference on a sample of the vocabulary (every token would be slow), the token itself included.
        for t in stride(from: id % 7, to: vocabulary.size, by: 7) + [id] {
            var probe = constraint
            Fuzz.check(mask.contains(t) == probe.accept(t), "mask and accept disagree on token \(t)")
        }
        guard constraint.accept(id) else { return 0 }
    }
    return 0
}
