import Foundation
import HTTPServer
import KimiAPI

/// The HTTP handler from the moment the port is bound, before the model is loaded: until
/// `open`, `/health` answers 503 `{"status":"loading"}` and every other request a 503 error
/// (so a router or a readiness probe sees a replica that is up but not ready, instead of a
/// refused connection); from then on every request goes to the API.
/// Sendable: `api` is written once and read under `lock`.
final class StartupGate: HTTPHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var api: KimiAPI?

    /// Hands every request from now on to `api`.
    func open(_ api: KimiAPI) { lock.withLock { self.api = api } }

    private var current: KimiAPI? { lock.withLock { api } }

    func handle(_ request: HTTPRequest, _ writer: ResponseWriter) {
        if let api = current { return api.handle(request, writer) }
        let retry = [(name: "Retry-After", value: "5")]
        if request.path == "/health" {
            writer.send(HTTPResponse(status: 503, contentType: "application/json", body: #"{"status":"loading"}"#, headers: retry))
        } else {
            var response = errorResponse(status: 503, message: "the model is loading; retry shortly")
            response.headers += retry
            writer.send(response)
        }
    }

    func errorResponse(status: Int, message: String) -> HTTPResponse {
        current?.errorResponse(status: status, message: message) ?? APIError.http(status: status, message: message).response
    }

    func refused(status: Int, message: String) { current?.refused(status: status, message: message) }
}
