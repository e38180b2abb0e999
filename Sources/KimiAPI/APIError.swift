import HTTPServer
import KimiJSON

/// An error answered in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with
/// its HTTP status. Messages never contain the request's text or keys beyond the offending
/// field's name and limits.
public struct APIError: Error, CustomStringConvertible, Equatable {
    public var status: Int
    public var type: String
    public var message: String
    public var param: String?
    public var code: String?
    public var headers: [(name: String, value: String)] = []

    public init(status: Int, type: String, message: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
    }

    public static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.type == b.type && a.message == b.message && a.param == b.param && a.code == b.code
    }

    public var description: String { "\(status) \(type): \(message)" }

    /// 400 for a field with a wrong type or value.
    public static func invalid(_ param: String, _ message: String, code: String? = "invalid_value") -> APIError {
        APIError(status: 400, type: "invalid_request_error", message: message, param: param, code: code)
    }

    /// 400 for a field we understand but do not (yet) support, rather than ignoring it.
    public static func unsupported(_ param: String, _ message: String) -> APIError {
        APIError(status: 400, type: "invalid_request_error", message: message, param: param, code: "unsupported_value")
    }

    public var json: JSONValue {
        .object(
            JSONObject([
                "error": .object(
                    JSONObject([
                        "message": .string(message), "type": .string(type),
                        "param": param.map { .string($0) } ?? .null, "code": code.map { .string($0) } ?? .null,
                    ]))
            ]))
    }

    public var response: HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: JSONWriter().string(json), headers: headers)
    }

    /// Anthropic's type for this status (its error shapes name no parameter or code).
    var anthropicType: String {
        switch status {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 503, 529: return "overloaded_error"
        case 500...: return "api_error"
        default: return "invalid_request_error"
        }
    }

    /// The error in Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`.
    var anthropicJSON: JSONValue {
        .object(
            JSONObject([
                "type": .string("error"),
                "error": .object(JSONObject(["type": .string(anthropicType), "message": .string(message)])),
            ]))
    }

    var anthropicResponse: HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: JSONWriter().string(anthropicJSON), headers: headers)
    }

    /// The error for a status the HTTP layer produced.
    public static func http(status: Int, message: String) -> APIError {
        switch status {
        case 413:
            return APIError(
                status: 413, type: "invalid_request_error", message: "request body too large: \(message)", code: "request_too_large")
        case 431:
            return APIError(
                status: 431, type: "invalid_request_error", message: "request header fields too large: \(message)",
                code: "headers_too_large")
        case 408:
            return APIError(status: 408, type: "invalid_request_error", message: "request timeout: \(message)", code: "request_timeout")
        case 503: return APIError(status: 503, type: "service_unavailable", message: message, code: "service_unavailable")
        case 500...: return APIError(status: status, type: "server_error", message: message)
        default: return APIError(status: status, type: "invalid_request_error", message: message)
        }
    }
}
