import Foundation
import HTTPServer
import KimiConstraints
import KimiJSON
import KimiServing
import KimiTokenizer
import Logging

/// The OpenAI-compatible API: routes, authentication, CORS (off unless origins are configured),
/// and the JSON of every answer.
/// It parses and validates requests, renders and tokenises prompts, submits generations to
/// the engine and turns the engine's events into responses or server-sent events.
public final class KimiAPI: HTTPHandler, Sendable {
    public struct Configuration: Sendable {
        /// Names `model` may take; the first is reported in responses to requests without one.
        public var servedModelNames: [String]
        /// Accepted keys (`Authorization: Bearer` or `x-api-key`); empty: no authentication.
        public var apiKeys: [String] = []
        /// Prompt plus completion, in tokens.
        public var maxModelLen: Int
        /// The chat template prompts are rendered with (the checkpoint's).
        public var chatTemplate = ChatTemplate.Kind.k2Instruct
        /// `/health` fails when the engine showed no progress for this long.
        public var healthTolerance: Double = 300
        /// Seconds between SSE keep-alive comments while nothing else is sent.
        public var pingInterval: Double = 15
        /// One line per request: id, route, status, token counts, time to first token, duration.
        public var logger = Logger(label: "kimi-serve.api")
        /// Also log the rendered prompt and the output text (off: they may be private).
        public var logPrompts = false
        /// Web origins whose pages may call this API from a browser (CORS); `*` for any. Empty:
        /// no CORS headers at all, so a web page cannot drive a server on the user's machine.
        public var allowedOrigins: [String] = []
        /// Constrain every tool call to a declared function and arguments valid against its
        /// parameters (off: the model writes calls unaided; response_format is still enforced).
        public var guidedTools = true

        public init(servedModelNames: [String], maxModelLen: Int) {
            self.servedModelNames = servedModelNames
            self.maxModelLen = maxModelLen
        }
    }

    let engine: any GenerationService
    let tokenizer: Tokenizer
    let configuration: Configuration
    /// Token ids that end an assistant turn.
    let stopTokens: Set<Int>
    let created = Int(Date().timeIntervalSince1970)
    /// Compiled response_format and tool schemas, by their text.
    let schemas = SchemaCache()

    public init(engine: any GenerationService, tokenizer: Tokenizer, configuration: Configuration, stopTokens: Set<Int>) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.configuration = configuration
        self.stopTokens = stopTokens
    }

    public func errorResponse(status: Int, message: String) -> HTTPResponse {
        APIError.http(status: status, message: message).response
    }

    public func refused(status: Int, message: String) {
        engine.metrics?.recordRequest(status: status)
        configuration.logger.notice("request refused", metadata: ["status": "\(status)", "error": "\(message)"])
    }

    /// What one request's log line reports.
    struct RequestRecord {
        var id = ""
        var requestID = ""
        var status = 200
        var usage: Usage?
        var ttft: Double?
        var finish: String?
        var error: String?

        mutating func finish(with outcome: Outcome, start: Double) {
            usage = outcome.usage
            ttft = outcome.firstToken.map { $0 - start }
            finish = outcome.finish
            if outcome.finish == nil { status = 499 }  // the client left
        }
    }

    public func handle(_ request: HTTPRequest, _ writer: ResponseWriter) {
        let start = ProcessInfo.processInfo.systemUptime
        var record = RequestRecord()
        defer { log(request, record, seconds: ProcessInfo.processInfo.systemUptime - start) }
        var path = request.path
        if path.hasPrefix("/v1/") { path.removeFirst(3) }  // /v1/models and /models alike
        let cors = corsHeaders(request)
        writer.headers += cors
        // Every response names its request: the client's own id if it sent a usable one.
        record.requestID = Self.requestID(request.header("X-Request-Id"))
        writer.headers.append(("X-Request-Id", record.requestID))
        if request.method == "OPTIONS" {
            // A preflight: allowed origins learn what they may send; others get no CORS headers,
            // which the browser takes as a refusal.
            // The browser SDKs send headers of their own (X-Stainless-*, anthropic-version,
            // anthropic-dangerous-direct-browser-access): every header the preflight asks for is allowed.
            let allowed = cors.contains { $0.name == "Access-Control-Allow-Origin" }
            let asked = request.header("Access-Control-Request-Headers").flatMap { h -> String? in
                h.utf8.count <= 2048 && h.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? h : nil
            }
            writer.send(
                HTTPResponse(
                    status: 204,
                    headers: [("Allow", "GET, HEAD, POST, OPTIONS")]
                        + (allowed
                            ? [
                                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                                (
                                    "Access-Control-Allow-Headers",
                                    asked ?? "Authorization, Content-Type, X-Api-Key, OpenAI-Organization, OpenAI-Project"
                                ),
                                ("Access-Control-Max-Age", "86400"),
                            ] : [])))
            return
        }
        do {
            let route = try Self.route(method: request.method, path: path)
            if route != .health && route != .metrics { try authenticate(request) }
            switch route {
            case .health: health(writer)
            case .metrics: metrics(writer)
            case .models: models(writer, id: nil)
            case let .model(id): models(writer, id: id)
            case .chatCompletions: try chatCompletions(request, writer, record: &record)
            case .messages: try messages(request, writer, record: &record)
            case .countTokens: try countTokens(request, writer)
            case .completions: try completions(request, writer, record: &record)
            case .responses: try responses(request, writer, record: &record)
            case .tokenize: try tokenize(request, writer)
            case .detokenize: try detokenize(request, writer)
            case .estimateTokenCount: try estimateTokenCount(request, writer)
            }
        } catch {
            let error = error as? APIError ?? APIError(status: 500, type: "server_error", message: "internal error")
            record.status = error.status
            record.error = error.code ?? error.type
            // Anthropic's routes answer in Anthropic's error shape.
            writer.send(path.hasPrefix("/messages") ? error.anthropicResponse : error.response)
        }
    }

    func log(_ request: HTTPRequest, _ r: RequestRecord, seconds: Double) {
        engine.metrics?.recordRequest(status: r.status)
        var metadata: Logger.Metadata = [
            "method": "\(request.method)", "route": "\(request.path.prefix(100))",
            "status": "\(r.status)", "duration_ms": "\(Int(seconds * 1000))",
        ]
        if !r.id.isEmpty { metadata["id"] = "\(r.id)" }
        metadata["request_id"] = "\(r.requestID)"
        if let u = r.usage {
            metadata["prompt_tokens"] = "\(u.promptTokens)"
            metadata["completion_tokens"] = "\(u.completionTokens)"
            metadata["cached_tokens"] = "\(u.cachedTokens)"
        }
        if let ttft = r.ttft { metadata["ttft_ms"] = "\(Int(ttft * 1000))" }
        if let finish = r.finish { metadata["finish_reason"] = "\(finish)" }
        if let error = r.error { metadata["error"] = "\(error)" }
        let level: Logger.Level = r.status >= 500 ? .error : r.status >= 400 ? .notice : .info
        configuration.logger.log(level: level, "request", metadata: metadata)
    }

    enum Route: Equatable {
        case health, metrics, models, model(String), chatCompletions, messages, countTokens
        case completions, responses, tokenize, detokenize, estimateTokenCount
    }

    static func route(method: String, path: String) throws -> Route {
        let routes: [(String, String, Route)] = [
            ("GET", "/health", .health), ("GET", "/metrics", .metrics), ("GET", "/models", .models),
            ("POST", "/chat/completions", .chatCompletions), ("POST", "/messages", .messages),
            ("POST", "/messages/count_tokens", .countTokens), ("POST", "/completions", .completions), ("POST", "/responses", .responses),
            ("POST", "/tokenize", .tokenize),
            ("POST", "/detokenize", .detokenize), ("POST", "/tokenizers/estimate-token-count", .estimateTokenCount),
        ]
        if let match = routes.first(where: { $0.1 == path }) {
            guard method == match.0 || (method == "HEAD" && match.0 == "GET") else {
                var error = APIError(
                    status: 405, type: "invalid_request_error", message: "\(method) is not allowed on \(path); use \(match.0)",
                    code: "method_not_allowed")
                error.headers = [("Allow", match.0)]
                throw error
            }
            return match.2
        }
        if path.hasPrefix("/models/"), path.count > "/models/".count {
            guard method == "GET" else {
                var error = APIError(
                    status: 405, type: "invalid_request_error", message: "\(method) is not allowed on \(path); use GET",
                    code: "method_not_allowed")
                error.headers = [("Allow", "GET")]
                throw error
            }
            return .model(String(path.dropFirst("/models/".count)).removingPercentEncoding ?? "")
        }
        throw APIError(status: 404, type: "invalid_request_error", message: "no route \(method) \(path.prefix(200))", code: "not_found")
    }

    /// `Access-Control-Allow-Origin` for a request whose `Origin` is allowed. With a list of
    /// origins the answer depends on the request's, which `Vary: Origin` tells caches.
    func corsHeaders(_ request: HTTPRequest) -> [(name: String, value: String)] {
        guard let origin = request.header("Origin"), !configuration.allowedOrigins.isEmpty else { return [] }
        // Pages may read the request id the server assigns.
        let expose = ("Access-Control-Expose-Headers", "X-Request-Id")
        if configuration.allowedOrigins.contains("*") { return [("Access-Control-Allow-Origin", "*"), expose] }
        guard configuration.allowedOrigins.contains(origin) else { return [("Vary", "Origin")] }
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"), expose]
    }

    /// Accepts `Authorization: Bearer KEY` or `x-api-key: KEY`, compared in constant time.
    func authenticate(_ request: HTTPRequest) throws {
        guard !configuration.apiKeys.isEmpty else { return }
        var presented = request.header("x-api-key")
        if let auth = request.header("Authorization"), auth.count > 7, auth.prefix(7).lowercased() == "bearer " {
            presented = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        var matched = false
        if let presented {
            for key in configuration.apiKeys where Self.constantTimeEquals(presented, key) { matched = true }
        }
        guard matched else {
            var error = APIError(
                status: 401, type: "authentication_error",
                message: presented == nil ? "missing API key: send Authorization: Bearer <key>" : "invalid API key",
                code: "invalid_api_key")
            error.headers = [("WWW-Authenticate", presented == nil ? "Bearer" : #"Bearer error="invalid_token""#)]  // RFC 6750 §3
            throw error
        }
    }

    /// The client's `X-Request-Id` when it is 1 to 128 visible ASCII characters, else a new one.
    static func requestID(_ sent: String?) -> String {
        if let sent, (1...128).contains(sent.utf8.count), sent.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return sent }
        return UUID().uuidString.lowercased()
    }

    /// Equality whose time depends only on the lengths.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }

    /// `/health` for a router or an orchestrator: 200 `{"status":"ready"}` while serving, 503
    /// `{"status":"draining"}` once shutting down (new requests are refused; running ones
    /// finish), 503 with an error when the engine stalled. (While the model loads, the start-up
    /// gate answers 503 `{"status":"loading"}`.)
    func health(_ writer: ResponseWriter) {
        if !engine.isAccepting {
            writer.send(HTTPResponse(status: 503, contentType: "application/json", body: #"{"status":"draining"}"#))
        } else if engine.isAlive(tolerance: configuration.healthTolerance) {
            writer.send(HTTPResponse(status: 200, contentType: "application/json", body: #"{"status":"ready"}"#))
        } else {
            writer.send(
                APIError(status: 503, type: "service_unavailable", message: "the engine is not running", code: "engine_unavailable")
                    .response)
        }
    }

    /// Prometheus text exposition of the engine's and the API's metrics.
    func metrics(_ writer: ResponseWriter) {
        guard let metrics = engine.metrics else {
            writer.send(
                APIError(status: 404, type: "invalid_request_error", message: "metrics are not enabled", code: "not_found").response)
            return
        }
        let s = engine.snapshot
        metrics.queued.set(Double(s.queued))
        metrics.running.set(Double(s.running))
        metrics.cachedPrefixes.set(Double(s.cachedPrefixes))
        metrics.cachedPrefixTokens.set(Double(s.cachedPrefixTokens))
        writer.send(
            HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.render()))
    }

    func models(_ writer: ResponseWriter, id: String?) {
        func card(_ name: String) -> JSONValue {
            .object(
                JSONObject([
                    "id": .string(name), "object": .string("model"), "created": JSONValue(created),
                    "owned_by": .string("kimi-serve"), "max_model_len": JSONValue(configuration.maxModelLen),
                ]))
        }
        let body: JSONValue
        if let id {
            guard configuration.servedModelNames.contains(id) else {
                writer.send(modelNotFound(id).response)
                return
            }
            body = card(id)
        } else {
            body = .object(JSONObject(["object": .string("list"), "data": .array(configuration.servedModelNames.map(card))]))
        }
        writer.send(HTTPResponse(status: 200, contentType: "application/json", body: JSONWriter().string(body)))
    }

    func modelNotFound(_ name: String) -> APIError {
        APIError(
            status: 404, type: "invalid_request_error",
            message:
                "the model '\(name.prefix(200))' does not exist; this server serves \(configuration.servedModelNames.map { "'\($0)'" }.joined(separator: ", "))",
            param: "model", code: "model_not_found")
    }
}
