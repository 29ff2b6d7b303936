#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# The bypass matrix's witness in the test internet (e2e/lib/bypass-cases.sh): runs in a container that
# joins the testbed's netns osinet (198.18.0.10) and records, as ground truth, everything that reaches
# the "internet" there:
#
#   TCP 8080   HTTP/1.1 server; every connection's raw bytes go to OUT/http-8080-N.raw, every request
#              it framed (RFC 9112: Transfer-Encoding before Content-Length) to OUT/requests.log
#   TCP 8081   the same (the policy's uninspected L4 port)
#   TCP 8443   the same over TLS (CERT/KEY: testserver.openshell.test, signed by the e2e test CA)
#   TCP 22     an SSH server's banner (the git-over-SSH target); connections logged in OUT/ssh.log
#   UDP 9999   datagrams logged in OUT/udp.log
#   eth0       a packet sniffer (AF_PACKET, needs CAP_NET_RAW): every frame carrying a "bpmark-..." token
#              (TCP, UDP or a DNS query name on its way to dnsmasq) is logged in OUT/sniff.log
#
# The HTTP answers never reflect what was received (only a count), so a secret the proxy injected cannot
# travel back to the agent through this server. Tests grep OUT/ for tokens and secrets.
#
# usage: bypass-upstream.py OUT_DIR CERT KEY
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time

OUT = sys.argv[1]
CERT, KEY = sys.argv[2], sys.argv[3]
TOKEN = re.compile(rb"bpmark-[A-Za-z0-9_-]+")
lock = threading.Lock()
counter = [0]


def log(name, line):
    with lock:
        with open(os.path.join(OUT, name), "a") as f:
            f.write(line + "\n")


def next_id():
    with lock:
        counter[0] += 1
        return counter[0]


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None, buf
        yield_raw(conn, chunk)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def yield_raw(conn, chunk):
    with open(conn.raw_path, "ab") as f:
        f.write(chunk)


def read_exact(conn, buf, n):
    while len(buf) < n:
        chunk = conn.recv(65536)
        if not chunk:
            break
        yield_raw(conn, chunk)
        buf += chunk
    return buf[:n], buf[n:]


def read_chunked(conn, buf):
    body = b""
    while True:
        while b"\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return body, buf
            yield_raw(conn, chunk)
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            return body, buf
        if size == 0:
            while b"\r\n" not in buf:  # trailers end with an empty line
                chunk = conn.recv(65536)
                if not chunk:
                    return body, buf
                yield_raw(conn, chunk)
                buf += chunk
            _, buf = buf.split(b"\r\n", 1)
            return body, buf
        data, buf = read_exact(conn, buf, size + 2)
        body += data[:size]


class Conn:
    """A socket with the path its raw bytes are appended to."""

    def __init__(self, sock, raw_path):
        self.sock, self.raw_path = sock, raw_path

    def recv(self, n):
        return self.sock.recv(n)


class HTTPHandler(socketserver.BaseRequestHandler):
    port = 8080

    def handle(self):
        sock = self.request
        if self.port == 8443:
            try:
                sock = self.server.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log("http.log", "%d tls-failed %s %r" % (self.port, self.client_address[0], e))
                return
        n = next_id()
        conn = Conn(sock, os.path.join(OUT, "http-%d-%d.raw" % (self.port, n)))
        log("http.log", "%d conn %d from %s" % (self.port, n, self.client_address[0]))
        sock.settimeout(20)
        buf, served = b"", 0
        try:
            while True:
                head, buf = read_head(conn, buf)
                if head is None:
                    return
                lines = head.split(b"\r\n")
                log("requests.log", "%d %d %r" % (self.port, n, lines[0]))
                fields = {}
                for h in lines[1:]:
                    k, _, v = h.partition(b":")
                    fields[k.strip().lower()] = v.strip()
                if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
                    _, buf = read_chunked(conn, buf)
                elif b"content-length" in fields:
                    _, buf = read_exact(conn, buf, int(fields[b"content-length"]))
                served += 1
                body = b"bypass-upstream %d\n" % served
                close = fields.get(b"connection", b"").lower() == b"close"
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n%s" %
                             (len(body), b"Connection: close\r\n" if close else b"", body))
                if close:
                    return
        except (OSError, ValueError):
            return


class HTTPSHandler(HTTPHandler):
    port = 8443


class HTTPHandler8081(HTTPHandler):
    port = 8081


class SSHHandler(socketserver.BaseRequestHandler):
    def handle(self):
        log("ssh.log", "conn from %s" % self.client_address[0])
        try:
            self.request.sendall(b"SSH-2.0-bypass-upstream\r\n")
            self.request.settimeout(5)
            self.request.recv(4096)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve_tcp(port, handler, tls=None):
    s = Server(("0.0.0.0", port), handler)
    s.tls = tls
    threading.Thread(target=s.serve_forever, daemon=True).start()


def serve_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))

    def loop():
        while True:
            data, peer = s.recvfrom(65536)
            log("udp.log", "%s %r" % (peer[0], data[:200]))
    threading.Thread(target=loop, daemon=True).start()


def sniff(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    while True:
        frame = s.recv(65536)
        for tok in set(TOKEN.findall(frame)):
            proto = "?"
            if len(frame) > 34 and frame[12:14] == b"\x08\x00":
                proto = {6: "tcp", 17: "udp", 1: "icmp"}.get(frame[23], str(frame[23]))
                src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
                log("sniff.log", "%s %s %s -> %s" % (tok.decode(), proto, src, dst))
            else:
                log("sniff.log", "%s %s" % (tok.decode(), proto))


def main():
    os.makedirs(OUT, exist_ok=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(CERT, KEY)
    serve_tcp(8080, HTTPHandler)
    serve_tcp(8081, HTTPHandler8081)
    serve_tcp(8443, HTTPSHandler, tls)
    serve_tcp(22, SSHHandler)
    serve_udp(9999)
    threading.Thread(target=sniff, args=("eth0",), daemon=True).start()
    log("ready", "ready %d" % time.time())
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
