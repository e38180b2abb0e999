import KimiConstraints
import KimiJSON

extension KimiAPI {
    /// The grammar a chat request's output must follow: the JSON of `response_format`, and —
    /// unless guided tools are off — tool calls that name a declared function with the right
    /// running index and arguments valid against its `parameters`, as many as `tool_choice` and
    /// `parallel_tool_calls` allow. nil when nothing is constrained.
    func grammar(for request: ChatCompletionRequest) throws -> Grammar? {
        let content: Grammar.Content
        switch request.responseFormat {
        case .text: content = .text
        case .jsonObject: content = .json(.anyObject)
        case let .jsonSchema(schema, strict):
            do {
                content = .json(
                    try schema.map { try schemas.compiled($0, strict: strict) } ?? schemas.compiled(.bool(true), strict: strict))
            } catch let error as SchemaError {
                throw Self.schemaError(error, param: "response_format.json_schema.schema")
            }
        }
        let guided = configuration.guidedTools
        var functions: [(name: String, parameters: CompiledSchema)] = []
        for (i, name) in request.toolNames.enumerated() {
            let (parameters, strict) = request.toolSchemas[i]
            guard guided, let parameters else {
                functions.append((name, .anyObject))
                continue
            }
            let param = "tools[\(i)].function.parameters"
            do {
                let compiled = try schemas.compiled(parameters, strict: strict)
                guard compiled.rootIsObject else {
                    throw APIError.invalid(param, "'\(param)' must describe a JSON object: Kimi's tool calls take an object of arguments")
                }
                functions.append((name, compiled))
            } catch let error as SchemaError {
                throw Self.schemaError(error, param: param)
            }
        }
        let calls: Grammar.Calls
        switch request.toolChoice {
        case .none: calls = .forbidden
        case .auto: calls = .allowed
        case .required: calls = .required
        case let .function(name): calls = .named(name)
        }
        // Free text with no tools, or unguided tools that may be called: nothing to constrain
        // (unguided, only tool_choice "none" is, by keeping the section shut).
        if case .text = content, functions.isEmpty || (!guided && request.toolChoice != .none) { return nil }
        return Grammar(
            content: content, calls: calls, functions: functions, parallel: request.parallelToolCalls,
            firstIndex: request.earlierCalls)
    }

    static func schemaError(_ error: SchemaError, param: String) -> APIError {
        APIError(
            status: 400, type: "invalid_request_error", message: "\(param): \(error)", param: param,
            code: error.keyword == nil ? "invalid_schema" : "unsupported_schema")
    }
}
