import ArgumentParser
import Foundation
import KimiAPI
import KimiJSON
import KimiTokenizer

/// Standard input, whole, as bytes.
func readStandardInput() -> Data {
    FileHandle.standardInput.readDataToEndOfFile()
}

/// Standard input as a JSON array of token ids.
func readTokenIds() throws -> [Int] {
    let value = try JSONParser.parse([UInt8](readStandardInput()))
    guard let ids = value.array?.map(\.int), !ids.contains(nil) else {
        throw ValidationError("standard input must be a JSON array of integer token ids")
    }
    return ids.map { $0! }
}

func writeStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

func jsonArray(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ", ") + "]" }

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode UTF-8 text from standard input into token ids.",
        discussion:
            "Reads standard input verbatim (nothing is stripped) and prints one JSON array of ids and a newline. By default special-token text stays ordinary text (tiktoken's disallowed_special=()); with --allow-special it becomes control tokens (allowed_special=\"all\", Hugging Face's behaviour for Kimi)."
    )

    @Option(name: .long, help: "Checkpoint directory holding tiktoken.model and tokenizer_config.json, or \"demo\".")
    var model: String

    @Flag(name: .long, help: "Encode special-token text as control tokens.")
    var allowSpecial = false

    @Option(name: .long, help: "Encode the input this many times and print the best throughput to standard error (a benchmark).")
    var benchmark: Int?

    func run() throws {
        try reportingErrors {
            let tokenizer = try Tokenizer(directory: try checkpointDirectory(model).path)
            guard let text = String(data: readStandardInput(), encoding: .utf8) else {
                throw ValidationError("standard input is not valid UTF-8")
            }
            var ids = tokenizer.encode(text, allowSpecial: allowSpecial)
            if let rounds = benchmark, rounds > 0 {
                var best = Double.infinity
                for _ in 0..<rounds {
                    let start = DispatchTime.now().uptimeNanoseconds
                    ids = tokenizer.encode(text, allowSpecial: allowSpecial)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                }
                let bytes = text.utf8.count
                printError(
                    String(
                        format: "encoded %d bytes into %d tokens in %.2f ms: %.1f MB/s (best of %d)",
                        bytes, ids.count, best * 1000, Double(bytes) / best / 1e6, rounds))
            }
            writeStandardOutput(jsonArray(ids) + "\n")
        }
    }
}

struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Decode a JSON array of token ids from standard input into text.",
        discussion: "Prints the text exactly, with no newline added; bytes that are not valid UTF-8 become U+FFFD.")

    @Option(name: .long, help: "Checkpoint directory, or \"demo\".")
    var model: String

    func run() throws {
        try reportingErrors {
            let tokenizer = try Tokenizer(directory: try checkpointDirectory(model).path)
            let ids = try readTokenIds()
            if let bad = ids.first(where: { $0 < 0 || $0 >= tokenizer.vocabSize }) {
                throw ValidationError("token id \(bad) is outside the vocabulary (0..<\(tokenizer.vocabSize))")
            }
            writeStandardOutput(tokenizer.decode(ids))
        }
    }
}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a chat-completions request from standard input into Kimi's prompt.",
        discussion:
            "Reads an OpenAI chat-completions request body (messages, tools) and prints the prompt with the generation prompt, exactly, no newline added, in the checkpoint's chat template (Kimi-K2-Instruct's or Kimi-K2-Thinking's). With --ids, prints its token ids instead: markup as control tokens, all client text as ordinary text. developer messages are rendered as system messages."
    )

    @Option(name: .long, help: "Checkpoint directory, or \"demo\".")
    var model: String

    @Flag(name: .long, help: "Print the prompt's token ids (a JSON array and a newline).")
    var ids = false

    func run() throws {
        try reportingErrors {
            let request = try JSONParser.parse([UInt8](readStandardInput()))
            guard let messages = request["messages"]?.array else {
                throw ValidationError("the request has no \"messages\" array")
            }
            let directory = try checkpointDirectory(model).path
            let template = try ChatTemplate.Kind.detect(directory: directory)
            if let note = template.note { printError("warning: \(note)") }
            let prompt = ChatTemplate.render(messages: messages, tools: request["tools"], kind: template.kind)
            if ids {
                writeStandardOutput(jsonArray(try Tokenizer(directory: directory).encode(prompt: prompt)) + "\n")
            } else {
                writeStandardOutput(prompt.text)
            }
        }
    }
}

struct ParseToolsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse-tools",
        abstract: "Parse model output ids from standard input into content and OpenAI tool calls.",
        discussion:
            "Reads a JSON array of output ids and prints {\"content\": …, \"tool_calls\": [{\"id\", \"type\", \"function\": {\"name\", \"arguments\"}, \"complete\"}]} and a newline. Only the tool-call markers' special ids delimit calls; marker text spelled with ordinary tokens (tokenize without --allow-special) is content."
    )

    @Option(name: .long, help: "Checkpoint directory, or \"demo\".")
    var model: String

    func run() throws {
        try reportingErrors {
            let tokenizer = try Tokenizer(directory: try checkpointDirectory(model).path)
            let result = ToolCallParser.parse(tokenizer.decodeOutput(try readTokenIds()))
            let calls: [JSONValue] = result.toolCalls.map { call in
                var json = KimiAPI.toolCallJSON(call).object!
                json["complete"] = .bool(call.complete)
                return .object(json)
            }
            let message = JSONObject(["content": result.content.isEmpty ? .null : .string(result.content), "tool_calls": .array(calls)])
            writeStandardOutput(JSONWriter(compact: false).string(.object(message)) + "\n")
        }
    }
}
