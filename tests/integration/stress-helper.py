#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Load and fault helpers for the test-stress-*.sh scripts, loopback only. Each prints one JSON object.

  stress-helper.py hold PORT N REQUEST READY RELEASE [rst]
        open N connections to 127.0.0.1:PORT (raising RLIMIT_NOFILE), send REQUEST (\\r\\n escapes) on
        each and read one response per connection; write the result to READY, keep every connection
        open until the file RELEASE exists, then close them all (with a TCP reset when "rst" is given)
  stress-helper.py slowloris PORT N INTERVAL ROUNDS REQUEST-START
        N connections each send REQUEST-START, then one more header byte every INTERVAL seconds for
        ROUNDS rounds or until the server answers or closes; reports how many were cut off
  stress-helper.py sink PORT
        HTTP/1.1 upstream that reads each request body (Content-Length or chunked) and answers with its
        size and SHA-256
  stress-helper.py chunked-post PROXY-PORT URL MIB
        POST MIB MiB of chunked body through the proxy (absolute URI); reports status, reply, local hash
  stress-helper.py send PORT DATA [shut]
        send DATA (\\r\\n escapes, %(N*c)s for N copies of c), optionally half-close, read until EOF or 10s
  stress-helper.py rst PORT N REQUEST
        N connections that send REQUEST and reset at once (SO_LINGER 0)
  stress-helper.py tls-clients PORT CA CERT KEY THREADS REQUESTS PATH
        THREADS concurrent mTLS clients, each sending REQUESTS keep-alive GETs of PATH
  stress-helper.py tls-stall [HOST:]PORT N MODE HOLD
        N TCP connections that never finish a TLS handshake (MODE silent: send nothing; half: half a
        ClientHello); waits up to HOLD seconds and reports how many the server closed
  stress-helper.py tls-bad PORT CA N CERT KEY
        N handshakes with the given (bad) client certificate ("none": none); reports how many failed
"""
import errno
import hashlib
import json
import os
import resource
import selectors
import socket
import ssl
import struct
import sys
import threading
import time


def address(s):
    """PORT (on 127.0.0.1) or HOST:PORT."""
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def unescape(s):
    return s.encode().decode("unicode_escape").encode("latin-1")


def parse_response(buf):
    """Status and total length of the first complete response in buf (Content-Length framing), or None."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return (0, len(buf))
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if len(rest) < length:
        return None
    return (status, len(head) + 4 + length)


def hold(port, n, request, ready, release, rst):
    limit = raise_nofile(n + 64)
    if limit < n + 16:
        print(json.dumps({"error": "RLIMIT_NOFILE %d too low for %d connections" % (limit, n)}))
        return 1
    sel = selectors.DefaultSelector()
    socks, bufs, pending = [], {}, 0
    statuses, opened, failed = {}, 0, 0
    started = 0
    deadline = time.monotonic() + 120  # a bound for a broken server, not a timing assertion
    while (started < n or pending) and time.monotonic() < deadline:
        # At most 512 connects in flight: the listen backlog is finite.
        while started < n and pending < 512:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE, "connect")
            socks.append(s)
            bufs[s] = b""
            started += 1
            pending += 1
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            if key.data == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    failed += 1
                    pending -= 1
                    sel.unregister(s)
                    continue
                opened += 1
                s.send(request)
                sel.modify(s, selectors.EVENT_READ, "read")
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                statuses["closed"] = statuses.get("closed", 0) + 1
                pending -= 1
                sel.unregister(s)
                continue
            bufs[s] += data
            r = parse_response(bufs[s])
            if r:
                statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
                pending -= 1
                sel.unregister(s)
    result = {"opened": opened, "connect_failed": failed, "statuses": statuses, "unfinished": pending}
    with open(ready + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(ready + ".tmp", ready)
    while not os.path.exists(release):
        time.sleep(0.05)
    # Still open = the server did not close it meanwhile (a peek sees EOF as b"").
    alive = 0
    for s in socks:
        try:
            s.setblocking(False)
            alive += 1 if s.recv(1, socket.MSG_PEEK) else 0
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    for s in socks:
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    result["alive_at_release"] = alive
    print(json.dumps(result))
    return 0


def slowloris(port, n, interval, rounds, start):
    raise_nofile(n + 64)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.send(start)
        s.setblocking(False)
        socks.append(s)
    cut, got408, sent = {}, 0, 0
    for rnd in range(rounds):
        time.sleep(interval)
        for i, s in enumerate(socks):
            if i in cut:
                continue
            try:
                data = s.recv(65536)
                if data is not None:
                    cut[i] = rnd
                    got408 += b" 408 " in data.split(b"\r\n")[0] + b" "
                    continue
            except BlockingIOError:
                pass
            except OSError:
                cut[i] = rnd
                continue
            try:
                s.send(b"a")
                sent += 1
            except OSError:
                cut[i] = rnd
        if len(cut) == n:
            break
    for s in socks:
        s.close()
    print(json.dumps({"connections": n, "cut": len(cut), "answered_408": got408, "bytes_dribbled": sent,
                      "last_round": max(cut.values()) if cut else None}))
    return 0


class SinkHandler:
    """A minimal HTTP/1.1 server: reads bodies of any size and framing, answers with size and hash."""

    def __init__(self, conn):
        self.f = conn.makefile("rb")
        self.conn = conn

    def body(self, headers):
        h = hashlib.sha256()
        total = 0
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                line = self.f.readline(4096)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.f.readline(4096) not in (b"\r\n", b""):
                        pass
                    break
                while size:
                    b = self.f.read(min(size, 1 << 20))
                    if not b:
                        raise EOFError
                    h.update(b)
                    total += len(b)
                    size -= len(b)
                self.f.readline(4096)
        else:
            size = int(headers.get("content-length", "0"))
            while size:
                b = self.f.read(min(size, 1 << 20))
                if not b:
                    raise EOFError
                h.update(b)
                total += len(b)
                size -= len(b)
        return total, h.hexdigest()

    def serve(self):
        while True:
            line = self.f.readline(65536)
            if not line:
                return
            method, target = line.split()[:2]
            headers = {}
            while True:
                hl = self.f.readline(65536)
                if hl in (b"\r\n", b""):
                    break
                k, _, v = hl.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            total, digest = self.body(headers)
            reply = json.dumps({"method": method.decode(), "path": target.decode(), "bytes": total,
                                "sha256": digest}).encode() + b"\n"
            self.conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(reply), reply))


def sink(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1024)

    def run(c):
        try:
            SinkHandler(c).serve()
        except (OSError, ValueError, EOFError, IndexError):
            pass
        c.close()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=run, args=(c,), daemon=True).start()


def chunked_post(proxy_port, url, mib):
    s = socket.create_connection(("127.0.0.1", proxy_port), timeout=60)
    host = url.split("/")[2]
    s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (url.encode(), host.encode()))
    h = hashlib.sha256()
    block = os.urandom(1 << 16)
    for _ in range(mib * 16):
        h.update(block)
        s.sendall(b"%x\r\n%s\r\n" % (len(block), block))
    s.sendall(b"0\r\n\r\n")
    buf = b""
    while parse_response(buf) is None:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    r = parse_response(buf)
    body = buf.partition(b"\r\n\r\n")[2].decode("latin-1")
    print(json.dumps({"status": r[0] if r else None, "reply": body, "sha256": h.hexdigest(), "bytes": mib << 20}))
    return 0


def expand(data):
    # %(N*c)s: N copies of the character c, so that huge inputs fit on a command line.
    out, i = [], 0
    while True:
        j = data.find("%(", i)
        if j < 0:
            out.append(data[i:])
            break
        k = data.index(")s", j)
        count, _, ch = data[j + 2:k].partition("*")
        out.append(data[i:j])
        out.append(ch * int(count))
        i = k + 2
    return unescape("".join(out))


def send(port, data, shut):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(expand(data))
    except OSError:
        pass  # the server may answer and close before it read everything
    if shut:
        s.shutdown(socket.SHUT_WR)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            if not shut and parse_response(b"".join(chunks)):
                break
    except (socket.timeout, ConnectionResetError):
        pass
    data = b"".join(chunks)
    r = parse_response(data)
    print(json.dumps({"status": r[0] if r else None, "reply": data.decode("latin-1")[:2000]}))
    return 0


def rst(port, n, request):
    done = 0
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(request)
        s.close()
        done += 1
    print(json.dumps({"reset": done}))
    return 0


def tls_context(ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    if cert != "none":
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_clients(port, ca, cert, key, threads, requests, path):
    ctx = tls_context(ca, cert, key)
    results = {"ok": 0, "other": 0, "errors": []}
    lock = threading.Lock()

    def client():
        try:
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=60), server_hostname="localhost")
            buf = b""
            for i in range(requests):
                last = i == requests - 1
                s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (path.encode(), b"Connection: close\r\n" if last else b""))
                while True:
                    r = parse_response(buf)
                    if r:
                        break
                    b = s.recv(65536)
                    if not b:
                        raise EOFError("closed early")
                    buf += b
                with lock:
                    results["ok" if r[0] == 200 else "other"] += 1
                buf = buf[r[1]:]
            s.close()
        except Exception as e:  # noqa: BLE001 - reported, counted as a failure
            with lock:
                results["errors"].append(repr(e)[:200])
    ts = [threading.Thread(target=client) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    results["errors"] = results["errors"][:5] + (["..."] if len(results["errors"]) > 5 else [])
    print(json.dumps(results))
    return 0


def client_hello():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def tls_stall(addr, n, mode, hold_s):
    raise_nofile(n + 64)
    hello = client_hello()
    socks = []
    for _ in range(n):
        s = socket.create_connection(addr)
        if mode == "half":
            s.sendall(hello[:len(hello) // 2])
        s.setblocking(False)
        socks.append(s)
    closed = set()
    t0 = time.monotonic()
    while len(closed) < n and time.monotonic() - t0 < hold_s:
        time.sleep(0.1)
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if not s.recv(4096):
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
    for s in socks:
        s.close()
    print(json.dumps({"connections": n, "closed_by_server": len(closed)}))
    return 0


def tls_bad(port, ca, n, cert, key):
    ctx = tls_context(ca, cert, key)
    failed, served = 0, 0
    for _ in range(n):
        try:
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost")
            # TLS 1.3: the server checks the client certificate after the client's handshake completed;
            # a request shows whether it was accepted.
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = s.recv(65536)
            if data.startswith(b"HTTP/1.1 200"):
                served += 1
            else:
                failed += 1
            s.close()
        except (ssl.SSLError, OSError):
            failed += 1
    print(json.dumps({"attempts": n, "refused": failed, "served": served}))
    return 0


def main():
    a = sys.argv[1:]
    cmd = a[0] if a else ""
    if cmd == "hold":
        return hold(int(a[1]), int(a[2]), unescape(a[3]), a[4], a[5], len(a) > 6 and a[6] == "rst")
    if cmd == "slowloris":
        return slowloris(int(a[1]), int(a[2]), float(a[3]), int(a[4]), unescape(a[5]))
    if cmd == "sink":
        return sink(int(a[1]))
    if cmd == "chunked-post":
        return chunked_post(int(a[1]), a[2], int(a[3]))
    if cmd == "send":
        return send(int(a[1]), a[2], len(a) > 3 and a[3] == "shut")
    if cmd == "rst":
        return rst(int(a[1]), int(a[2]), unescape(a[3]))
    if cmd == "tls-clients":
        return tls_clients(int(a[1]), a[2], a[3], a[4], int(a[5]), int(a[6]), a[7])
    if cmd == "tls-stall":
        return tls_stall(address(a[1]), int(a[2]), a[3], float(a[4]))
    if cmd == "tls-bad":
        return tls_bad(int(a[1]), a[2], int(a[3]), a[4], a[5])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
