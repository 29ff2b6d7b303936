#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for test-proxy.sh, loopback only.

  proxy-helper.py free-port                 print a free TCP port on 127.0.0.1
  proxy-helper.py echo PORT                 HTTP/1.1 keep-alive server on 127.0.0.1:PORT answering every request
                                            with a JSON echo of method, path and headers
  proxy-helper.py tls-echo PORT CERT KEY      the same over TLS
  proxy-helper.py notify PATH OUT           receive sd_notify datagrams on PATH and append them to OUT
  proxy-helper.py raw HOST PORT DATA        send DATA (with \\r\\n escapes) and print the whole reply
  proxy-helper.py inference-backend PORT KEY LOG DIR [CERT KEYFILE]
                                            a fake model backend: answers 401 unless "Authorization: Bearer KEY",
                                            logs each request as a JSON line to LOG, echoes model and path; with
                                            "stream": true sends SSE events, waiting for DIR/go after the first
                                            and touching DIR/last-sent once the last event went out
  proxy-helper.py sse-client PROXY-PORT URL DIR [CAFILE]
                                            POST a streaming chat completion through the proxy; on the first
                                            event report whether DIR/last-sent exists yet, then touch DIR/go
"""
import http.server
import json
import os
import socket
import socketserver
import sys
import time


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
        }).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Keep-Alive", "timeout=5")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class InferenceBackend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    key = log = workdir = None

    def _reply(self, status, obj):
        data = json.dumps(obj).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(text):
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        chunk('data: {"n": 1}\n\n')
        go = os.path.join(self.workdir, "go")
        for _ in range(300):  # a bound for a broken proxy, not a timing assertion
            if os.path.exists(go):
                break
            time.sleep(0.05)
        for n in (2, 3):
            chunk('data: {"n": %d}\n\n' % n)
            time.sleep(0.05)
        chunk("data: [DONE]\n\n")
        open(os.path.join(self.workdir, "last-sent"), "w").close()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        entry = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                 "body": body.decode("latin-1")}
        with open(self.log, "a") as f:
            f.write(json.dumps(entry) + "\n")
        if self.headers.get("Authorization") != "Bearer " + self.key:
            return self._reply(401, {"error": "bad key"})
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            return self._reply(400, {"error": "bad json"})
        if req.get("stream"):
            return self._stream()
        self._reply(200, {"ok": True, "path": self.path, "model": req.get("model"), "auth": "ok"})

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


def sse_client(proxy_port, url, workdir, cafile):
    import http.client
    import ssl
    import urllib.parse
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection("127.0.0.1", proxy_port, context=ctx, timeout=20)
        conn.set_tunnel(u.hostname, u.port or 443)
        target = u.path
    else:
        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=20)
        target = url
    body = json.dumps({"model": "agent-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    conn.request("POST", target, body=body, headers={"Content-Type": "application/json",
                                                    "Authorization": "Bearer sk-agent-placeholder"})
    resp = conn.getresponse()
    print("status", resp.status, resp.getheader("Content-Type"))
    events = []
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.decode().strip()
        if not line.startswith("data:"):
            continue
        if not events:
            late = os.path.exists(os.path.join(workdir, "last-sent"))
            print("first event", "after-last" if late else "before-last")
            open(os.path.join(workdir, "go"), "w").close()
        events.append(line[5:].strip())
    print("events", " ".join(events))


def main():
    cmd = sys.argv[1]
    if cmd == "free-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
    elif cmd == "echo":
        Server(("127.0.0.1", int(sys.argv[2])), Echo).serve_forever()
    elif cmd == "tls-echo":
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        ctx.set_alpn_protocols(["http/1.1"])
        srv = Server(("127.0.0.1", int(sys.argv[2])), Echo)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.serve_forever()
    elif cmd == "notify":
        path, out = sys.argv[2], sys.argv[3]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        open(out + ".bound", "w").close()
        while True:
            data = s.recv(4096)
            with open(out, "ab") as f:
                f.write(data + b"\n")
    elif cmd == "raw":
        host, port, data = sys.argv[2], int(sys.argv[3]), sys.argv[4].encode().decode("unicode_escape")
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(data.encode("latin-1"))
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
                # A complete response with Content-Length is enough.
                whole = b"".join(chunks)
                head, sep, rest = whole.partition(b"\r\n\r\n")
                if sep:
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:") and len(rest) >= int(line.split(b":")[1]):
                            raise StopIteration
        except (StopIteration, socket.timeout):
            pass
        sys.stdout.write(b"".join(chunks).decode("latin-1"))
    elif cmd == "inference-backend":
        InferenceBackend.key, InferenceBackend.log, InferenceBackend.workdir = sys.argv[3:6]
        srv = Server(("127.0.0.1", int(sys.argv[2])), InferenceBackend)
        if len(sys.argv) > 7:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[6], sys.argv[7])
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.serve_forever()
    elif cmd == "sse-client":
        sse_client(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
