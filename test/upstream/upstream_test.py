#!/usr/bin/env python3
"""Tests for test/upstream/upstream.py (stdlib unittest; runs in a few seconds).

    python3 test/upstream/upstream_test.py

Starts the server as a subprocess on a temporary fixtures directory with tiny
bodies, so it does not depend on the recorded fixtures under test/fixtures.
Timing checks assert lower bounds only.
"""

import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "upstream.py")

OPENAI_JSON = ('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,'
               '"message":{"role":"assistant","content":"Voilà, café 東京 🚀"},'
               '"finish_reason":"stop"}]}\n').encode("utf-8")
OPENAI_SSE = (b'data: {"id":"c1","choices":[{"delta":{"role":"assistant"}}]}\n\n'
              b'data: {"id":"c1","choices":[{"delta":{"content":"Hel"}}]}\n\n'
              b'data: {"id":"c1","choices":[{"delta":{"content":"lo"}}]}\n\n'
              b'data: [DONE]\n\n')
ANTHROPIC_JSON = b'{"type":"message","role":"assistant","content":[{"type":"text","text":"Hi"}]}'
ANTHROPIC_SSE = (b'event: message_start\ndata: {"type":"message_start"}\n\n'
                 b'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n'
                 b'event: message_delta\ndata: {"type":"message_delta"}\n\n'
                 b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
GEMINI_JSON = b'{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}'
GEMINI_SSE = (b'data: {"candidates":[{"content":{"parts":[{"text":"H"}]}}]}\r\n\r\n'
              b'data: {"candidates":[{"content":{"parts":[{"text":"i"}]}}]}\r\n\r\n'
              b'data: {"candidates":[],"usageMetadata":{"totalTokenCount":3}}\r\n\r\n')
OLLAMA_JSON = b'{"model":"llama3","message":{"role":"assistant","content":"Hi"},"done":true}'
OLLAMA_NDJSON = (b'{"model":"llama3","message":{"content":"H"},"done":false}\n'
                 b'{"model":"llama3","message":{"content":"i"},"done":false}\n'
                 b'{"model":"llama3","message":{"content":""},"done":true}\n')
CUSTOM_JSON = b'{"custom": true, "pad": "0123456789012345678901234567890123456789"}'

FIXTURES = {
    "openai/chat_completion_text.json": OPENAI_JSON,
    "openai/stream_text_usage.sse": OPENAI_SSE,
    "openai/custom.json": CUSTOM_JSON,
    "anthropic/message_text.json": ANTHROPIC_JSON,
    "anthropic/stream_text.sse": ANTHROPIC_SSE,
    "gemini/generate_text.json": GEMINI_JSON,
    "gemini/stream_text.sse": GEMINI_SSE,
    "ollama/chat_structured_text.json": OLLAMA_JSON,
    "ollama/stream_thinking_text.ndjson": OLLAMA_NDJSON,
}

GEM = "/v1beta/models/gemini-2.0-flash"
# (provider, path, body) for each provider route
CHAT_ROUTES = [
    ("openai", "/v1/chat/completions", {"model": "m", "messages": []}),
    ("anthropic", "/v1/messages", {"model": "m", "messages": []}),
    ("gemini", GEM + ":generateContent", {"contents": []}),
    ("ollama", "/api/chat", {"model": "m", "messages": [], "stream": False}),
]
EMBED_ROUTES = [
    ("openai", "/v1/embeddings", {"model": "e", "input": "x"}),
    ("gemini", GEM + ":embedContent", {"content": {"parts": [{"text": "x"}]}}),
    ("gemini", GEM + ":batchEmbedContents",
     {"requests": [{"content": {"parts": [{"text": "x"}]}}]}),
    ("ollama", "/api/embed", {"model": "e", "input": "x"}),
]
STREAMS = [  # (provider, path, body, fixture bytes, how the terminal event reads)
    ("openai", "/v1/chat/completions", {"stream": True}, OPENAI_SSE, b"[DONE]"),
    ("anthropic", "/v1/messages", {"stream": True}, ANTHROPIC_SSE, b"message_stop"),
    ("gemini", GEM + ":streamGenerateContent?alt=sse", {}, GEMINI_SSE, b"usageMetadata"),
    ("ollama", "/api/chat", {"model": "m"}, OLLAMA_NDJSON, b'"done":true'),
]


def start_server(fixtures):
    proc = subprocess.Popen([sys.executable, UPSTREAM, "--fixtures", fixtures],
                            stdout=subprocess.PIPE)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    if not ready:
        proc.kill()
        raise RuntimeError("upstream.py printed no port line")
    line = proc.stdout.readline()
    if not line.startswith(b"port ") or not line.endswith(b"\n"):
        proc.kill()
        raise RuntimeError("bad port line %r" % line)
    return proc, int(line[5:])


def embed_vec(text, dims=3):
    raw = text.encode("utf-8")
    v = [float(len(raw)), float(sum(raw)), float(zlib.crc32(raw) % 100000)]
    return (v + [0.0] * dims)[:dims]


class UpstreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="upstream_test_")
        for name, data in FIXTURES.items():
            path = os.path.join(cls.tmp, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
        cls.proc, cls.port = start_server(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            cls.proc.wait(5)
        except subprocess.TimeoutExpired:
            cls.proc.kill()
            cls.proc.wait()
        cls.proc.stdout.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers --

    def request(self, path, body=None, headers=None, method="POST", raw=None):
        """One request on a fresh connection: (status, headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            data = raw if raw is not None else (
                None if body is None else json.dumps(body).encode("utf-8"))
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def raw_chunks(self, path, body, headers=None):
        """POST with Connection: close; return (status line, headers, chunk list)."""
        data = json.dumps(body).encode("utf-8")
        head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1",
                "Content-Type: application/json", "Content-Length: %d" % len(data),
                "Connection: close"]
        head += ["%s: %s" % kv for kv in (headers or {}).items()]
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + data)
        buf = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        s.close()
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        hdrs = {k.strip().lower(): v.strip()
                for k, _, v in (ln.partition(":") for ln in lines[1:])}
        self.assertEqual(hdrs.get("transfer-encoding"), "chunked")
        chunks = []
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                self.assertEqual(rest, b"\r\n")  # clean end of the chunked body
                break
            chunks.append(rest[:size])
            self.assertEqual(rest[size:size + 2], b"\r\n")
            rest = rest[size + 2:]
        return lines[0], hdrs, chunks

    # -- whole bodies, routing, keep-alive --

    def test_whole_fixture_byte_exact_with_keepalive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        bodies = []
        for path, body, hdrs in [
                ("/v1/chat/completions", {"model": "m"}, {}),
                ("/v1/messages", {"model": "m"}, {}),
                ("/v1/chat/completions", {}, {"X-Upstream-Fixture": "openai/custom"})]:
            conn.request("POST", path, body=json.dumps(body), headers=hdrs)
            if not bodies:
                sock = conn.sock
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.getheader("Content-Type"), "application/json")
            bodies.append(resp.read())
            self.assertEqual(resp.getheader("Content-Length"), str(len(bodies[-1])))
        self.assertIs(conn.sock, sock, "connection was not kept alive")
        conn.close()
        self.assertEqual(bodies, [OPENAI_JSON, ANTHROPIC_JSON, CUSTOM_JSON])
        for path, body, want in [(GEM + ":generateContent", {}, GEMINI_JSON),
                                 ("/api/chat", {"stream": False}, OLLAMA_JSON)]:
            self.assertEqual(self.request(path, body)[::2], (200, want))

    def test_unknown_path_missing_fixture_bad_json(self):
        st, _, body = self.request("/v1/nope", {})
        self.assertEqual(st, 404)
        self.assertIn("message", json.loads(body)["error"])
        st, _, body = self.request("/v1/chat/completions", {},
                                   {"X-Upstream-Fixture": "openai/absent"})
        self.assertEqual(st, 500)
        self.assertIn(os.path.join("openai", "absent.json"), body.decode())
        st, _, body = self.request("/v1/chat/completions", {},
                                   {"X-Upstream-Fault": "bogus=1"})
        self.assertEqual(st, 500)
        want = {"openai": lambda e: e["error"]["type"] == "invalid_request_error",
                "anthropic": lambda e: e["error"]["type"] == "invalid_request_error",
                "gemini": lambda e: e["error"]["status"] == "INVALID_ARGUMENT",
                "ollama": lambda e: isinstance(e["error"], str)}
        for prov, path, _ in CHAT_ROUTES + EMBED_ROUTES:
            st, _, body = self.request(path, raw=b"{not json")
            self.assertEqual(st, 400, path)
            self.assertTrue(want[prov](json.loads(body)), (path, body))
        st, _, body = self.request(GEM + ":streamGenerateContent", {})
        self.assertEqual(st, 400)

    def test_health(self):
        st, _, body = self.request("/_upstream/health", method="GET")
        self.assertEqual((st, body), (200, b"ok"))

    # -- streams --

    def test_streams_one_chunk_per_event_then_terminal(self):
        for prov, path, body, fixture, terminal in STREAMS:
            status, hdrs, chunks = self.raw_chunks(path, body)
            self.assertIn(" 200 ", status)
            ctype = "application/x-ndjson" if prov == "ollama" else "text/event-stream"
            self.assertEqual(hdrs["content-type"], ctype)
            self.assertEqual(b"".join(chunks), fixture, prov)  # replayed byte-exact
            self.assertEqual(len(chunks), 4 if prov in ("openai", "anthropic") else 3, prov)
            self.assertIn(terminal, chunks[-1].replace(b" ", b""), prov)
            if prov != "ollama":
                sep = b"\r\n\r\n" if prov == "gemini" else b"\n\n"
                self.assertTrue(all(c.endswith(sep) for c in chunks), prov)

    def test_truncate_drops_terminal_event(self):
        for prov, path, body, fixture, terminal in STREAMS:
            _, _, chunks = self.raw_chunks(path, body, {"X-Upstream-Fault": "truncate"})
            self.assertTrue(chunks, prov)
            self.assertTrue(fixture.startswith(b"".join(chunks)), prov)
            self.assertNotIn(terminal, b"".join(chunks).replace(b" ", b""), prov)
            self.assertEqual(len(chunks), 3 if prov in ("openai", "anthropic") else 2, prov)
        # Whole body: Content-Length of the full body, half of it, then close.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request("POST", "/v1/chat/completions", body="{}",
                     headers={"X-Upstream-Fault": "truncate"})
        resp = conn.getresponse()
        self.assertEqual(resp.getheader("Content-Length"), str(len(OPENAI_JSON)))
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertEqual(cm.exception.partial, OPENAI_JSON[:len(OPENAI_JSON) // 2])
        conn.close()

    def test_malformed(self):
        st, _, body = self.request("/v1/chat/completions", {},
                                   {"X-Upstream-Fault": "malformed"})
        self.assertEqual(st, 200)
        self.assertRaises(ValueError, json.loads, body)
        _, _, chunks = self.raw_chunks("/v1/chat/completions", {"stream": True},
                                       {"X-Upstream-Fault": "malformed"})
        bad = 0
        for c in chunks:
            data = c.decode()[len("data: "):].strip()
            if data != "[DONE]":
                try:
                    json.loads(data)
                except ValueError:
                    bad += 1
        self.assertEqual(bad, 1)

    def test_ollama_streams_by_default(self):
        st, hdrs, body = self.request("/api/chat", {"model": "m", "messages": []})
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["Content-Type"], "application/x-ndjson")
        self.assertEqual(hdrs["Transfer-Encoding"], "chunked")
        self.assertEqual(body, OLLAMA_NDJSON)

    # -- faults --

    def test_status_429_retry_after_each_route(self):
        f = {"X-Upstream-Fault": "status=429,retry_after=2,retry_after_ms=1500"}
        for prov, path, body in CHAT_ROUTES + EMBED_ROUTES:
            st, hdrs, raw = self.request(path, body, f)
            self.assertEqual(st, 429, path)
            self.assertEqual(hdrs["Retry-After"], "2", path)
            self.assertEqual(hdrs["retry-after-ms"], "1500", path)
            e = json.loads(raw)
            if prov == "openai":
                self.assertEqual(e["error"]["code"], "rate_limit_exceeded")
                self.assertIn("message", e["error"])
                self.assertIn("type", e["error"])
            elif prov == "anthropic":
                self.assertEqual(e["type"], "error")
                self.assertEqual(e["error"]["type"], "rate_limit_error")
            elif prov == "gemini":
                self.assertEqual((e["error"]["code"], e["error"]["status"]),
                                 (429, "RESOURCE_EXHAUSTED"))
            else:
                self.assertIsInstance(e["error"], str)
        st, _, raw = self.request("/v1/messages", {}, {"X-Upstream-Fault": "status=529"})
        self.assertEqual((st, json.loads(raw)["error"]["type"]), (529, "overloaded_error"))
        # A stream request gets the error as a whole JSON body too.
        st, hdrs, raw = self.request("/v1/messages", {"stream": True},
                                     {"X-Upstream-Fault": "status=503"})
        self.assertEqual((st, hdrs["Content-Type"]), (503, "application/json"))

    def test_reset(self):
        for path, body in [("/v1/chat/completions", {}),
                           ("/v1/chat/completions", {"stream": True}),
                           ("/v1/chat/completions", {"stream": True, "r": 0})]:
            n = 0 if "r" in body else 10
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                conn.request("POST", path, body=json.dumps(body),
                             headers={"X-Upstream-Fault": "reset=%d" % n})
                conn.getresponse().read()
            conn.close()
        # The server lives on.
        self.assertEqual(self.request("/_upstream/health", method="GET")[0], 200)

    def test_delay_drip_stall_lower_bounds(self):
        t0 = time.monotonic()
        st, _, body = self.request("/v1/chat/completions", {},
                                   {"X-Upstream-Fault": "delay=300"})
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual((st, body), (200, OPENAI_JSON))

        t0 = time.monotonic()  # 4 events, 3 gaps
        st, _, body = self.request("/v1/chat/completions", {"stream": True},
                                   {"X-Upstream-Fault": "drip=100"})
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(body, OPENAI_SSE)

        t0 = time.monotonic()  # whole body in 16-byte pieces
        st, _, body = self.request("/v1/chat/completions",
                                   {}, {"X-Upstream-Fault": "drip=40,chunk=16",
                                        "X-Upstream-Fixture": "openai/custom"})
        gaps = (len(CUSTOM_JSON) + 15) // 16 - 1
        self.assertGreaterEqual(time.monotonic() - t0, 0.04 * gaps)
        self.assertEqual(body, CUSTOM_JSON)

        t0 = time.monotonic()  # one pause after the first NDJSON line
        st, _, body = self.request("/api/chat", {}, {"X-Upstream-Fault": "stall=300"})
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(body, OLLAMA_NDJSON)

    def test_times_id(self):
        f = {"X-Upstream-Fault": "status=503,times=1,id=a"}
        seen = [self.request("/v1/chat/completions", {}, f)[0] for _ in range(3)]
        self.assertEqual(seen, [503, 200, 200])
        f = {"X-Upstream-Fault": "status=429,times=2,id=b"}
        seen = [self.request("/v1/messages", {}, f)[0] for _ in range(3)]
        self.assertEqual(seen, [429, 429, 200])

    # -- request log --

    def test_request_log(self):
        self.assertEqual(self.request("/_upstream/requests", method="DELETE")[0], 204)
        self.request("/v1/chat/completions", {"model": "first"}, {"X-Test": "One"})
        self.request(GEM + ":generateContent?key=k", {"contents": []})
        st, _, body = self.request("/_upstream/requests", method="GET")
        log = json.loads(body)
        self.assertEqual(st, 200)
        self.assertEqual([r["path"] for r in log],
                         ["/v1/chat/completions", GEM + ":generateContent"])
        self.assertEqual(log[0]["method"], "POST")
        self.assertEqual(json.loads(log[0]["body"]), {"model": "first"})
        self.assertEqual(log[0]["headers"]["x-test"], "One")
        self.assertEqual(log[1]["query"], "key=k")
        self.request("/_upstream/requests", method="DELETE")
        self.assertEqual(json.loads(self.request("/_upstream/requests", method="GET")[2]), [])

    # -- embeddings --

    def test_embeddings(self):
        texts = ["hello world", "é", "a b c"]
        st, _, body = self.request("/v1/embeddings", {"model": "e3", "input": texts})
        got = json.loads(body)
        self.assertEqual(st, 200)
        self.assertEqual(got["object"], "list")
        self.assertEqual(got["model"], "e3")
        self.assertEqual(got["usage"], {"prompt_tokens": 6, "total_tokens": 6})
        self.assertEqual([d["index"] for d in got["data"]], [0, 1, 2])
        self.assertEqual([d["object"] for d in got["data"]], ["embedding"] * 3)
        self.assertEqual([d["embedding"] for d in got["data"]], [embed_vec(t) for t in texts])
        got = json.loads(self.request("/v1/embeddings",
                                      {"model": "e", "input": "hi", "dimensions": 5})[2])
        self.assertEqual(got["data"][0]["embedding"], embed_vec("hi", 5))

        got = json.loads(self.request(GEM + ":embedContent", {
            "content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 4})[2])
        self.assertEqual(got, {"embedding": {"values": embed_vec("hello", 4)}})
        got = json.loads(self.request(GEM + ":batchEmbedContents", {"requests": [
            {"content": {"parts": [{"text": t}]}} for t in texts]})[2])
        self.assertEqual(got, {"embeddings": [{"values": embed_vec(t)} for t in texts]})

        got = json.loads(self.request("/api/embed", {"model": "o", "input": texts})[2])
        self.assertEqual(got, {"model": "o", "embeddings": [embed_vec(t) for t in texts],
                               "prompt_eval_count": 6})

    # -- process --

    def test_signals_exit_0_and_quiet_stdout(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc, port = start_server(self.tmp)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/v1/chat/completions", body="{}")
            self.assertEqual(conn.getresponse().read(), OPENAI_JSON)
            proc.send_signal(sig)
            self.assertEqual(proc.wait(5), 0)
            self.assertEqual(proc.stdout.read(), b"")  # nothing after the port line
            proc.stdout.close()
            conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
