#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for test-proxy.sh, loopback only.

  proxy-helper.py free-port                 print a free TCP port on 127.0.0.1
  proxy-helper.py echo PORT                 HTTP/1.1 keep-alive server on 127.0.0.1:PORT answering every request
                                            with a JSON echo of method, path and headers
  proxy-helper.py tls-echo PORT CERT KEY      the same over TLS
  proxy-helper.py notify PATH OUT           receive sd_notify datagrams on PATH and append them to OUT
  proxy-helper.py raw HOST PORT DATA        send DATA (with \\r\\n escapes) and print the whole reply
"""
import http.server
import json
import os
import socket
import socketserver
import sys


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
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
