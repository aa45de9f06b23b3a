#!/usr/bin/env python3
"""upstream.py - a fake LLM provider server for llmkit's tests and `make demo`.

Python 3 standard library only.

Usage
-----
    python3 test/upstream/upstream.py [--fixtures DIR] [--port N]

Binds 127.0.0.1:N (N = 0, the default, picks a free port), prints exactly
"port N\\n" on stdout and flushes, then serves until SIGTERM or SIGINT and
exits 0. Nothing else is written to stdout; problems go to stderr, quietly
(set UPSTREAM_VERBOSE=1 to log each request there). --fixtures defaults to
test/fixtures (this script's ../fixtures).

HTTP/1.1 with keep-alive. Whole bodies carry Content-Length. Streams use
Transfer-Encoding: chunked, one chunk per SSE event (everything up to and
including its blank line; Content-Type text/event-stream) or per NDJSON line
(Ollama; Content-Type application/x-ndjson), each written and flushed alone.

Routes (POST; any other path or method -> 404 with an OpenAI-style error)
    OpenAI     /v1/chat/completions            streams when body "stream": true
               /v1/embeddings
    Anthropic  /v1/messages                    streams when body "stream": true
    Gemini     /v1beta/models/{model}:generateContent
               /v1beta/models/{model}:streamGenerateContent   (SSE; needs ?alt=sse,
                                               400 INVALID_ARGUMENT without it)
               /v1beta/models/{model}:embedContent
               /v1beta/models/{model}:batchEmbedContents
    Ollama     /api/chat                       streams unless body "stream": false
               /api/embed
    Control    GET /_upstream/health           200 "ok"
               GET /_upstream/requests         JSON array of logged POSTs, in order
               DELETE /_upstream/requests      clears the log (204)

Recorded answers (chat routes)
    Header "X-Upstream-Fixture: <provider>/<name>" picks DIR/<provider>/<name>
    .json for a whole answer, .sse for an SSE stream, .ndjson for an Ollama
    stream (by whether the request streams). Defaults per route:
    openai/chat_completion_text.json, openai/stream_text_usage.sse,
    anthropic/message_text.json, anthropic/stream_text.sse,
    gemini/generate_text.json, gemini/stream_text.sse,
    ollama/chat_structured_text.json, ollama/stream_thinking_text.ndjson.
    A missing file -> 500, text/plain, naming the file. SSE and NDJSON files are replayed byte for byte.

Embeddings (synthesised, no fixture): one vector per input, in input order,
in the provider's own shape. The vector of a text t is
[len(t as UTF-8), sum of its bytes, crc32(t) % 100000] as floats, padded with
0.0 (or cut) to OpenAI "dimensions" / Gemini "outputDimensionality" when
asked. Token counts = whitespace-separated words, summed. OpenAI token-array
inputs count as their numbers joined by spaces; OpenAI "encoding_format":
"base64" gives base64 of little-endian float32s. Gemini parts' texts are
concatenated (no separator) into one input per content.

Fault injection: header "X-Upstream-Fault", comma-separated items, any mix
    delay=MS        sleep before the status line
    status=CODE     answer CODE with the route's provider-format error body
                    (429 rate limit, 401 auth, 400 invalid request, 404 not
                    found, 500 server error, 503/529 overloaded, 504 timeout)
    retry_after=S   add "Retry-After: S"           (meant for use with status)
    retry_after_ms=MS  add "retry-after-ms: MS"    (meant for use with status)
    drip=MS         sleep MS between body pieces (SSE events / NDJSON lines;
                    whole bodies are cut into chunk=N byte pieces, default 16)
    chunk=N         piece size: whole bodies; on a stream it also cuts every
                    event/line into N-byte pieces, one HTTP chunk each
    stall=MS        one pause of MS after the first piece
    reset=N         after N body bytes (payload bytes, chunk framing not
                    counted) abort the connection with RST; when the body is
                    shorter than N, all of it is sent (no chunked terminator)
                    and then the RST
    truncate        stream: stop before the terminal event (OpenAI
                    "data: [DONE]", Anthropic "event: message_stop", Gemini
                    the last event, Ollama the "done": true line) and end the
                    chunked body cleanly; whole body: Content-Length of the
                    full body, only the first half sent, then the connection
                    is closed
    malformed       whole: the body becomes invalid JSON; stream: the data of
                    the first JSON event / line becomes invalid JSON
    context_length  answer 400 with the provider-format error of a prompt
                    longer than the model's context (OpenAI's wording)
    times=N,id=X    the fault applies only to the first N requests carrying
                    id X (counted per id, every request with that id counts);
                    later ones are served normally. times without id counts
                    under the empty id.
    An unknown item or bad value -> 500, text/plain (a test-setup bug).
    Faults apply to the provider routes, not to 404s or /_upstream.

Request log: every POST (any path) is logged as {"method", "path" (without the
query), "query" (raw query string), "headers" {lower-case name: value},
"body" (the text, UTF-8 with replacement)}.

Malformed request JSON -> 400 in the route's provider format.
"""

import argparse
import base64
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

VERBOSE = bool(os.environ.get("UPSTREAM_VERBOSE"))
DEFAULT_FIXTURES = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
DEFAULT_CHUNK = 16
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_GEMINI_RE = re.compile(
    r"^/v1beta/models/([^/]+):"
    r"(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$")


class SetupError(Exception):
    """A test-setup bug (bad fault header, missing fixture): 500 text/plain."""


class BadRequest(Exception):
    """The client's request is unusable: 400 in the provider's format."""


# ---------------------------------------------------------------- routes ----

class Route:
    def __init__(self, provider, kind, model=None, gemini_method=None):
        self.provider = provider  # openai | anthropic | gemini | ollama
        self.kind = kind          # chat | embed
        self.model = model
        self.gemini_method = gemini_method


def find_route(path):
    p = unquote(path)
    if p == "/v1/chat/completions":
        return Route("openai", "chat")
    if p == "/v1/embeddings":
        return Route("openai", "embed")
    if p == "/v1/messages":
        return Route("anthropic", "chat")
    if p == "/api/chat":
        return Route("ollama", "chat")
    if p == "/api/embed":
        return Route("ollama", "embed")
    m = _GEMINI_RE.match(p)
    if m:
        method = m.group(2)
        kind = "chat" if method.endswith("enerateContent") else "embed"
        return Route("gemini", kind, model=m.group(1), gemini_method=method)
    return None


DEFAULT_FIXTURE = {
    ("openai", False): "openai/chat_completion_text",
    ("openai", True): "openai/stream_text_usage",
    ("anthropic", False): "anthropic/message_text",
    ("anthropic", True): "anthropic/stream_text",
    ("gemini", False): "gemini/generate_text",
    ("gemini", True): "gemini/stream_text",
    ("ollama", False): "ollama/chat_structured_text",
    ("ollama", True): "ollama/stream_thinking_text",
}


# ---------------------------------------------------------------- errors ----

_REASONS = {400: "invalid request", 401: "authentication failed",
            403: "permission denied", 404: "not found", 408: "request timeout",
            413: "request too large", 429: "rate limit exceeded",
            500: "internal server error", 502: "bad gateway",
            503: "overloaded", 504: "timeout", 529: "overloaded"}

_OPENAI_TYPES = {400: ("invalid_request_error", None),
                 401: ("invalid_request_error", "invalid_api_key"),
                 403: ("invalid_request_error", "unsupported_country_region_territory"),
                 404: ("invalid_request_error", "model_not_found"),
                 429: ("requests", "rate_limit_exceeded"),
                 500: ("server_error", None),
                 503: ("server_error", "overloaded"),
                 504: ("server_error", "timeout"),
                 529: ("server_error", "overloaded")}

_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                    403: "permission_error", 404: "not_found_error",
                    413: "request_too_large", 429: "rate_limit_error",
                    500: "api_error", 503: "overloaded_error",
                    504: "timeout_error", 529: "overloaded_error"}

_GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
                  403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  408: "DEADLINE_EXCEEDED", 409: "ABORTED",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  501: "UNIMPLEMENTED", 503: "UNAVAILABLE",
                  504: "DEADLINE_EXCEEDED", 529: "UNAVAILABLE"}


def error_body(provider, code, message):
    """The provider-format JSON error body for HTTP status `code`."""
    if provider == "anthropic":
        etype = _ANTHROPIC_TYPES.get(
            code, "api_error" if code >= 500 else "invalid_request_error")
        obj = {"type": "error", "error": {"type": etype, "message": message}}
    elif provider == "gemini":
        status = _GEMINI_STATUS.get(
            code, "INTERNAL" if code >= 500 else "FAILED_PRECONDITION")
        obj = {"error": {"code": code, "message": message, "status": status}}
    elif provider == "ollama":
        obj = {"error": message}
    else:
        etype, ecode = _OPENAI_TYPES.get(
            code, ("server_error" if code >= 500 else "invalid_request_error", None))
        obj = {"error": {"message": message, "type": etype, "param": None,
                         "code": ecode}}
    return json.dumps(obj).encode("utf-8")


# ---------------------------------------------------------------- faults ----

class Faults:
    INT_KEYS = ("delay", "status", "drip", "chunk", "stall", "reset", "times")

    def __init__(self):
        self.delay = self.status = self.drip = self.chunk = None
        self.stall = self.reset = self.times = None
        self.retry_after = self.retry_after_ms = None
        self.id = None
        self.truncate = self.malformed = self.context_length = False

    @classmethod
    def parse(cls, text):
        f = cls()
        for item in (text or "").split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key in ("truncate", "malformed", "context_length") and not sep:
                setattr(f, key, True)
            elif key in cls.INT_KEYS and sep:
                try:
                    n = int(value)
                except ValueError:
                    raise SetupError("X-Upstream-Fault: %r needs an integer" % item)
                if n < 0 or (key == "chunk" and n < 1) or \
                        (key == "status" and not 100 <= n <= 999):
                    raise SetupError("X-Upstream-Fault: %r is out of range" % item)
                setattr(f, key, n)
            elif key in ("retry_after", "retry_after_ms", "id") and sep and value:
                setattr(f, key, value)
            else:
                raise SetupError("X-Upstream-Fault: unknown or malformed item %r" % item)
        return f

    def any_body_fault(self):
        return any(v is not None for v in (self.drip, self.chunk, self.stall, self.reset)) \
            or self.truncate or self.malformed


# ------------------------------------------------------------ embeddings ----

def embed_vector(text, dims=None):
    raw = text.encode("utf-8")
    vec = [float(len(raw)), float(sum(raw)), float(zlib.crc32(raw) % 100000)]
    if dims is not None:
        vec = (vec + [0.0] * dims)[:dims]
    return vec


def word_count(text):
    return len(text.split())


def _positive_int(value, name):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("%s must be a positive integer" % name)
    return value


def _openai_texts(inp):
    if isinstance(inp, str):
        return [inp]
    if isinstance(inp, list) and inp:
        if all(isinstance(x, str) for x in inp):
            return list(inp)
        if all(isinstance(x, int) and not isinstance(x, bool) for x in inp):
            return [" ".join(str(x) for x in inp)]
        if all(isinstance(x, list) and x and
               all(isinstance(y, int) and not isinstance(y, bool) for y in x)
               for x in inp):
            return [" ".join(str(y) for y in x) for x in inp]
    raise BadRequest("'input' must be a string, an array of strings or token arrays")


def _gemini_text(content, where):
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        raise BadRequest("%s.content.parts must be an array" % where)
    texts = []
    for part in content["parts"]:
        if not isinstance(part, dict) or not isinstance(part.get("text", ""), str):
            raise BadRequest("%s.content.parts[].text must be a string" % where)
        texts.append(part.get("text", ""))
    return "".join(texts)


def _gemini_dims(req):
    v = req.get("outputDimensionality", req.get("output_dimensionality"))
    return _positive_int(v, "outputDimensionality")


def synth_embeddings(route, req):
    """The whole JSON body for an embeddings route (BadRequest on bad input)."""
    if route.provider == "openai":
        if "input" not in req:
            raise BadRequest("missing required parameter 'input'")
        texts = _openai_texts(req["input"])
        dims = _positive_int(req.get("dimensions"), "dimensions")
        b64 = req.get("encoding_format") == "base64"
        data = []
        for i, t in enumerate(texts):
            vec = embed_vector(t, dims)
            if b64:
                vec = base64.b64encode(struct.pack("<%df" % len(vec), *vec)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": vec})
        n = sum(word_count(t) for t in texts)
        obj = {"object": "list", "data": data, "model": req.get("model", ""),
               "usage": {"prompt_tokens": n, "total_tokens": n}}
    elif route.provider == "gemini":
        if route.gemini_method == "embedContent":
            text = _gemini_text(req.get("content"), "request")
            obj = {"embedding": {"values": embed_vector(text, _gemini_dims(req))}}
        else:
            reqs = req.get("requests")
            if not isinstance(reqs, list) or not reqs:
                raise BadRequest("'requests' must be a non-empty array")
            out = []
            for i, r in enumerate(reqs):
                if not isinstance(r, dict):
                    raise BadRequest("requests[%d] must be an object" % i)
                text = _gemini_text(r.get("content"), "requests[%d]" % i)
                out.append({"values": embed_vector(text, _gemini_dims(r))})
            obj = {"embeddings": out}
    else:  # ollama
        inp = req.get("input")
        if isinstance(inp, str):
            texts = [inp]
        elif isinstance(inp, list) and all(isinstance(x, str) for x in inp):
            texts = list(inp)
        else:
            raise BadRequest("'input' must be a string or an array of strings")
        obj = {"model": req.get("model", ""),
               "embeddings": [embed_vector(t) for t in texts],
               "prompt_eval_count": sum(word_count(t) for t in texts)}
    return json.dumps(obj).encode("utf-8")


# --------------------------------------------------------------- streams ----

def _is_blank(line):
    return line in (b"\n", b"\r\n", b"\r")


def split_sse(data):
    """SSE bytes -> events, each up to and including its blank line."""
    events, cur = [], b""
    for line in data.splitlines(keepends=True):
        cur += line
        if _is_blank(line):
            events.append(cur)
            cur = b""
    if cur:
        events.append(cur)
    return events


def split_ndjson(data):
    return data.splitlines(keepends=True)


def _sse_field_values(event, field):
    out = []
    prefix = field + b":"
    for line in event.splitlines():
        if line.startswith(prefix):
            v = line[len(prefix):]
            out.append(v[1:] if v.startswith(b" ") else v)
    return out


def _json_ok(b):
    try:
        json.loads(b.decode("utf-8"))
        return True
    except (ValueError, UnicodeDecodeError):
        return False


def terminal_index(provider, pieces):
    """Index of the terminal event/line (truncate stops before it)."""
    for i, p in enumerate(pieces):
        if provider == "openai" and b"[DONE]" in [v.strip() for v in _sse_field_values(p, b"data")]:
            return i
        if provider == "anthropic" and b"message_stop" in [v.strip() for v in _sse_field_values(p, b"event")]:
            return i
        if provider == "ollama":
            try:
                if json.loads(p.decode("utf-8")).get("done") is True:
                    return i
            except (ValueError, UnicodeDecodeError, AttributeError):
                pass
    # Gemini, or a recording without the usual terminator: its last event.
    i = len(pieces) - 1
    while i > 0 and not pieces[i].strip():
        i -= 1  # skip trailing blank pieces
    return max(i, 0)


BAD_JSON = b'{"upstream": malformed'


def corrupt_stream(pieces, ndjson):
    """Make the data of the first JSON event (or line) invalid JSON."""
    for i, p in enumerate(pieces):
        if ndjson:
            if _json_ok(p):
                ending = p[len(p.rstrip(b"\r\n")):]
                pieces[i] = BAD_JSON + ending
                return
            continue
        lines = p.splitlines(keepends=True)
        for j, line in enumerate(lines):
            body = line.rstrip(b"\r\n")
            if body.startswith(b"data:"):
                payload = body[5:].strip()
                if _json_ok(payload):
                    lines[j] = b"data: " + BAD_JSON + line[len(body):]
                    pieces[i] = b"".join(lines)
                    return
    # No JSON event at all: corrupt the first piece outright.
    if pieces:
        pieces[0] = (b"data: " + BAD_JSON + b"\n\n") if not ndjson else BAD_JSON + b"\n"


def split_bytes(data, n):
    return [data[i:i + n] for i in range(0, len(data), n)] or [b""]


# --------------------------------------------------------------- handler ----

class Abort(Exception):
    """The connection was reset on purpose; stop handling it."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llmkit-upstream/1"
    sys_version = ""
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet unless asked
        if VERBOSE:
            sys.stderr.write("upstream: %s %s\n" % (self.address_string(), fmt % args))

    # -- plumbing --

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = b""
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line:
                    break
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                out += self.rfile.read(size)
                self.rfile.readline(65537)
            return out
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send_simple(self, code, body, ctype, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_text(self, code, text):
        self._send_simple(code, text.encode("utf-8"), "text/plain; charset=utf-8")

    def _abort(self):
        """Reset the connection: SO_LINGER on with timeout 0, then close."""
        time.sleep(0.02)  # let the bytes already written reach the peer first
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()  # drop makefile()'s reference so close() is real
            self.connection.close()
        except OSError:
            pass
        raise Abort()

    def _write_pieces(self, pieces, faults, chunked):
        sent = 0
        first = True
        for piece in pieces:
            if not piece:
                continue
            if faults.reset is not None and sent >= faults.reset:
                self._abort()
            if not first and faults.drip:
                time.sleep(faults.drip / 1000.0)
            if faults.reset is not None and sent + len(piece) > faults.reset:
                piece = piece[:faults.reset - sent]
                self._write_frame(piece, chunked)
                self._abort()
            self._write_frame(piece, chunked)
            sent += len(piece)
            if first and faults.stall:
                time.sleep(faults.stall / 1000.0)
            first = False
        if faults.reset is not None:
            self._abort()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_frame(self, piece, chunked):
        if not piece:
            return
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        else:
            self.wfile.write(piece)
        self.wfile.flush()

    def _start(self, code, headers, faults):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if faults.retry_after is not None:
            self.send_header("Retry-After", faults.retry_after)
        if faults.retry_after_ms is not None:
            self.send_header("retry-after-ms", faults.retry_after_ms)
        self.end_headers()

    def send_whole(self, code, body, faults, ctype="application/json"):
        if faults.malformed:
            body = BAD_JSON + b"\n"
        full_len = len(body)
        if faults.truncate:
            body = body[:full_len // 2]
            self.close_connection = True
        if faults.drip or faults.stall or faults.chunk:
            pieces = split_bytes(body, faults.chunk or DEFAULT_CHUNK)
        else:
            pieces = [body]
        self._start(code, [("Content-Type", ctype),
                           ("Content-Length", str(full_len))], faults)
        self._write_pieces(pieces, faults, chunked=False)

    def send_stream(self, provider, data, ndjson, faults):
        pieces = split_ndjson(data) if ndjson else split_sse(data)
        if faults.truncate:
            pieces = pieces[:terminal_index(provider, pieces)]
        if faults.malformed:
            corrupt_stream(pieces, ndjson)
        if faults.chunk:
            pieces = [q for p in pieces for q in split_bytes(p, faults.chunk)]
        ctype = "application/x-ndjson" if ndjson else "text/event-stream"
        headers = [("Content-Type", ctype), ("Transfer-Encoding", "chunked")]
        if not ndjson:
            headers.append(("Cache-Control", "no-cache"))
        self._start(200, headers, faults)
        self._write_pieces(pieces, faults, chunked=True)

    # -- methods --

    def _guarded(self, fn):
        self._started = False
        try:
            fn()
        except Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                socket.timeout):
            self.close_connection = True
        except Exception:  # a bug in upstream itself: say so, keep serving
            self.close_connection = True
            traceback.print_exc(file=sys.stderr)
            if not self._started:
                try:
                    self._send_text(500, "upstream: internal error\n" + traceback.format_exc())
                except OSError:
                    pass

    def send_response(self, code, message=None):
        self._started = True
        super().send_response(code, message)

    def do_GET(self):
        self._guarded(self._get)

    def do_HEAD(self):
        self._guarded(self._get)

    def do_DELETE(self):
        self._guarded(self._delete)

    def do_PUT(self):
        self._guarded(self._other)

    def do_PATCH(self):
        self._guarded(self._other)

    def do_POST(self):
        self._guarded(self._post)

    def _not_found(self):
        path = urlsplit(self.path).path
        self._send_simple(404, error_body(
            "openai", 404, "Invalid URL (%s %s)" % (self.command, path)),
            "application/json")

    def _other(self):
        self._read_body()
        self._not_found()

    def _get(self):
        path = urlsplit(self.path).path
        if path == "/_upstream/health":
            self._send_simple(200, b"ok", "text/plain")
        elif path == "/_upstream/requests":
            with self.server.lock:
                body = json.dumps(self.server.requests).encode("utf-8")
            self._send_simple(200, body, "application/json")
        else:
            self._not_found()

    def _delete(self):
        self._read_body()
        if urlsplit(self.path).path == "/_upstream/requests":
            with self.server.lock:
                self.server.requests.clear()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._not_found()

    def _post(self):
        raw = self._read_body()
        parts = urlsplit(self.path)
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        with self.server.lock:
            self.server.requests.append({
                "method": self.command, "path": parts.path, "query": parts.query,
                "headers": headers, "body": raw.decode("utf-8", errors="replace")})

        route = find_route(parts.path)
        if route is None:
            self._not_found()
            return
        try:
            fault_text = ",".join(self.headers.get_all("X-Upstream-Fault") or [])
            faults = Faults.parse(fault_text)
            if faults.times is not None:
                key = faults.id or ""
                with self.server.lock:
                    n = self.server.fault_counts.get(key, 0) + 1
                    self.server.fault_counts[key] = n
                if n > faults.times:
                    faults = Faults()
            if faults.delay:
                time.sleep(faults.delay / 1000.0)
            self._serve(route, parts, raw, faults)
        except SetupError as e:
            sys.stderr.write("upstream: %s\n" % e)
            self._send_text(500, "upstream: %s\n" % e)

    def _serve(self, route, parts, raw, faults):
        p = route.provider
        if faults.context_length:
            msg = ("This model's maximum context length is 8192 tokens. However, your "
                   "messages resulted in 9000 tokens. (upstream: injected)")
            self.send_whole(400, error_body(p, 400, msg), faults)
            return
        if faults.status is not None:
            code = faults.status
            msg = "upstream: injected status %d (%s)" % (code, _REASONS.get(code, "error"))
            self.send_whole(code, error_body(p, code, msg), faults)
            return
        try:
            req = json.loads(raw.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as e:
            self.send_whole(400, error_body(
                p, 400, "upstream: request body is not a JSON object: %s" % e), faults)
            return

        if route.kind == "embed":
            try:
                body = synth_embeddings(route, req)
            except BadRequest as e:
                self.send_whole(400, error_body(p, 400, "upstream: %s" % e), faults)
                return
            self.send_whole(200, body, faults)
            return

        if p == "openai" or p == "anthropic":
            stream = req.get("stream") is True
        elif p == "ollama":
            stream = req.get("stream") is not False
        else:
            stream = route.gemini_method == "streamGenerateContent"
            if stream and parse_qs(parts.query).get("alt") != ["sse"]:
                self.send_whole(400, error_body(
                    p, 400, "upstream: streamGenerateContent needs ?alt=sse"), faults)
                return

        name = self.headers.get("X-Upstream-Fixture") or DEFAULT_FIXTURE[(p, stream)]
        name = name.strip()
        comps = name.split("/")
        if len(comps) != 2 or not all(_NAME_RE.match(c) and c not in (".", "..")
                                      for c in comps):
            raise SetupError("X-Upstream-Fixture must be <provider>/<name>, got %r" % name)
        ext = ".json" if not stream else (".ndjson" if p == "ollama" else ".sse")
        fpath = os.path.join(self.server.fixtures, comps[0], comps[1] + ext)
        try:
            with open(fpath, "rb") as fh:
                data = fh.read()
        except OSError as e:
            raise SetupError("missing fixture file %s (%s)" % (fpath, e.strerror))
        if stream:
            self.send_stream(p, data, p == "ollama", faults)
        else:
            self.send_whole(200, data, faults)


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of new connections
    # (async calls, a benchmark) would wait out SYN retransmits of 1 s.
    request_queue_size = 512
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, fixtures):
        super().__init__(addr, Handler)
        self.fixtures = fixtures
        self.lock = threading.Lock()
        self.requests = []
        self.fault_counts = {}

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, Abort)):
            return  # client went away / deliberate reset: not worth a word
        sys.stderr.write("upstream: error serving %s\n" % (client_address,))
        traceback.print_exc(file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake LLM provider server for llmkit tests.")
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES,
                    help="fixtures directory (default: %(default)s)")
    ap.add_argument("--port", type=int, default=0, help="port (0 = a free one)")
    args = ap.parse_args(argv)

    server = Server(("127.0.0.1", args.port), os.path.abspath(args.fixtures))

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    sys.stdout.write("port %d\n" % server.server_address[1])
    sys.stdout.flush()

    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
