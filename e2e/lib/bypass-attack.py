#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# The agent's side of the bypass matrix (e2e/lib/bypass-cases.sh): raw probes that curl cannot make.
# Fed to python3 on stdin inside the agent container (`podman exec -i AGENT python3 - VERB ARGS`), so the
# agent image needs nothing but python3. Every verb prints one line saying what happened and exits 0
# when the probe got through (the attack worked, or a control succeeded), 1 when it was stopped.
#
#   tcp HOST PORT [DATA]          connect (IPv4/IPv6 literal, link-local with %IFACE), send DATA; a
#                                 refused connection counts as getting through (the host answered)
#   unix PATH                     connect to a Unix stream socket (e.g. the gateway's callback socket)
#   icmp HOST DATA                one echo request through an unprivileged ICMP socket; 0 on a reply
#   udp HOST PORT DATA            send one datagram (0 means the kernel accepted it, not that it arrived)
#   dns SERVER NAME [tcp]         one A query to SERVER:53; 0 when an address came back
#   raw                           AF_PACKET and raw IPv4 sockets; 0 when either could be opened
#   send HOST PORT B64 [--connect TARGET] [--tls SNI] [--wait SEC]
#                                 send the base64-decoded bytes (after a CONNECT and/or a TLS handshake
#                                 with the given SNI, verified against $SSL_CERT_FILE), print everything
#                                 received as a Python literal; 0 when the exchange completed
import base64
import os
import socket
import ssl
import struct
import sys
import time


def addr(host, port):
    info = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    return info[0], info[4]


def tcp(host, port, data=""):
    try:
        fam, sa = addr(host, int(port))
    except OSError as e:
        print("tcp %s:%s: %s" % (host, port, e))
        return 1
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(sa)
        if data:
            s.sendall(data.encode())
    except ConnectionRefusedError:
        print("tcp %s:%s: refused, so the host answered: reachable" % (host, port))
        return 0
    except OSError as e:
        print("tcp %s:%s: %s" % (host, port, e))
        return 1
    print("tcp %s:%s: connected" % (host, port))
    return 0


def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(path)
    except OSError as e:
        print("unix %s: %s" % (path, e))
        return 1
    print("unix %s: connected" % path)
    return 0


def icmp(host, data):
    """An ICMP echo through a ping socket (no capability needed where ping_group_range allows it)."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        s.settimeout(3)
        s.sendto(struct.pack(">BBHHH", 8, 0, 0, 0, 1) + data.encode(), (host, 0))
        s.recv(4096)
    except OSError as e:
        print("icmp %s: %s" % (host, e))
        return 1
    print("icmp %s: echo reply" % host)
    return 0


def udp(host, port, data):
    try:
        fam, sa = addr(host, int(port))
    except OSError as e:
        print("udp %s:%s: %s" % (host, port, e))
        return 1
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.sendto(data.encode(), sa)
    except OSError as e:
        print("udp %s:%s: %s" % (host, port, e))
        return 1
    print("udp %s:%s: sent" % (host, port))
    return 0


def dns(server, name, proto="udp"):
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    try:
        if proto == "tcp":
            s = socket.create_connection((server, 53), timeout=4)
            s.sendall(struct.pack(">H", len(q)) + q)
            resp = s.recv(4096)[2:]
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(4)
            s.sendto(q, (server, 53))
            resp = s.recv(4096)
    except OSError as e:
        print("dns %s @%s/%s: %s" % (name, server, proto, e))
        return 1
    rcode, answers = resp[3] & 0x0F, struct.unpack(">H", resp[6:8])[0]
    print("dns %s @%s/%s: rcode %d, %d answers" % (name, server, proto, rcode, answers))
    return 0 if rcode == 0 and answers > 0 else 1


def raw():
    got = []
    for name, fam, typ, proto in (("AF_PACKET", socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)),
                                  ("AF_INET/SOCK_RAW", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)):
        try:
            socket.socket(fam, typ, proto).close()
            got.append(name + " opened")
        except OSError as e:
            got.append("%s: %s" % (name, e))
    print("; ".join(got))
    return 0 if any(g.endswith("opened") for g in got) else 1


def recv_all(s, wait):
    out, end = b"", time.time() + wait
    s.settimeout(0.5)
    while time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except (OSError, ssl.SSLError):
            break
        if not chunk:
            break
        out += chunk
        end = max(end, time.time() + 1.0)  # keep reading while data flows
    return out


def send(host, port, b64, *opts):
    opts = list(opts)
    target = opts[opts.index("--connect") + 1] if "--connect" in opts else None
    sni = opts[opts.index("--tls") + 1] if "--tls" in opts else None
    wait = float(opts[opts.index("--wait") + 1]) if "--wait" in opts else 3.0
    payload = base64.b64decode(b64)
    s = socket.create_connection((host, int(port)), timeout=5)
    if target:
        s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode()))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            print(repr(head))
            return 1
    if sni:
        ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
        ctx.check_hostname = False  # the proxy's SNI check is what is tested, not ours
        try:
            s = ctx.wrap_socket(s, server_hostname=sni)
        except (ssl.SSLError, OSError) as e:
            print("tls-failed %s" % e)
            return 1
    s.sendall(payload)
    out = recv_all(s, wait)
    print(repr(out))
    return 0


def main():
    verb, args = sys.argv[1], sys.argv[2:]
    return {"tcp": tcp, "unix": unix, "icmp": icmp, "udp": udp, "dns": dns, "raw": raw, "send": send}[verb](*args)


if __name__ == "__main__":
    sys.exit(main())
