#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test: "openshell sandbox create" following a sandbox's stages, against a scripted fake
# gateway on loopback (plain HTTP, as with DisableTLS=yes). The fake answers each GET of a sandbox with
# the next step of that sandbox's script, so the stages, a failed unit, the timeout, a gateway without
# systemd and --no-wait are each checked without systemd or Podman: plain lines (not a terminal) and the
# redrawn progress line (a pty from script(1)), the exit codes and the hints.
# Usage: test-gateway-cli.sh PATH-TO-openshell. TAP output; 77 without python3.
set -u

CLI=${1:?usage: test-gateway-cli.sh CLI}
command -v python3 >/dev/null || { echo "1..0 # skip: python3 not installed"; exit 77; }

WORK=$(mktemp -d /tmp/test-gateway-cli-XXXXXX)
FAKE_PID=
N=0
FAILED=0

cleanup() {
        [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
        wait 2>/dev/null
        [ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh" || exit 1

PORT=$(free_port)
cat >"$WORK/fake.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

GW = {"gateway": "https://10.214.0.1:17671",
      "tls": {"ca": "/t/ca.crt", "cert": "/t/tls.crt", "key": "/t/tls.key",
              "agent_cert": "/t/agent.crt", "agent_key": "/t/agent.key"}}
U = "unknown"
# Per sandbox: the GET answers in order (the last one repeats): state, (network, volume, proxy, agent), session.
SCRIPTS = {
    "good": [("inactive", (U, U, U, U), False), ("activating", ("active", "activating", U, U), False),
             ("activating", ("active", "active", "activating", U), False),
             ("activating", ("active", "active", "active", "activating"), False),
             ("activating", ("active", "active", "active", "active"), False),
             ("active", ("active", "active", "active", "active"), True)],
    "bad": [("activating", ("active", "active", "activating", U), False),
            ("failed", ("active", "active", "failed", "inactive"), False)],
    "slow": [("activating", ("active", "active", "active", "active"), False)],
    "nosd": [("unknown", (U, U, U, U), False)],
    # systemd away for a moment (a daemon-reexec) after known states: the CLI keeps waiting.
    "flaky": [("activating", ("active", "active", "activating", U), False), ("unknown", (U, U, U, U), False),
              ("unknown", (U, U, U, U), False), ("active", ("active", "active", "active", "active"), True)],
}
gets = {}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, name):
        n = gets.get(name, 0)
        script = SCRIPTS[name]
        state, units, session = script[min(n, len(script) - 1)]
        return {"name": name, "created": 1795000000, "providers": [], "spec": dict(GW, name=name, image="x"),
                "state": state, "session": session,
                "units": dict(zip(("network", "volume", "proxy", "agent"), units))}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = body["spec"]["name"]
        gets[name] = 0
        with open(sys.argv[2], "a") as f:
            f.write("POST %s start=%s\n" % (name, body.get("start")))
        self.reply(201, self.record(name))

    def do_GET(self):
        name = self.path.rsplit("/", 1)[1]
        if name not in SCRIPTS:
            return self.reply(404, {"error": "not_found", "message": "No such object"})
        with open(sys.argv[2], "a") as f:
            f.write("GET %s\n" % name)
        rec = self.record(name)
        gets[name] = gets.get(name, 0) + 1
        self.reply(200, rec)

HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/fake.py" "$PORT" "$WORK/requests" 2>"$WORK/fake.log" &
FAKE_PID=$!
for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.05
done

export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config
unset OPENSHELL_GATEWAY
mkdir -p "$HOME"
create() { "$CLI" -g "http://127.0.0.1:$PORT" sandbox create "$@" --image x </dev/null; }

echo "1..18"

# 1-2. every stage, one plain line each (stderr is not a terminal), exit 0
out=$(create good 2>&1); rc=$?
check "create follows the stages to 'agent ready'" "$out" \
        $'good: created\ngood: network ready\ngood: volume ready\ngood: proxy ready\ngood: agent ready'
check "... and exits 0" "$rc" 0
# 3. the agent unit was active a poll before the session was up: the CLI waited for both
check "agent ready only with the session (6 polls)" "$(grep -c '^GET good$' "$WORK/requests")" 6
# 4. sandbox get shows the units and the session
out=$("$CLI" -g "http://127.0.0.1:$PORT" sandbox get good 2>&1)
expect "sandbox get shows units and session" "$out" \
        $'Units:     network active, volume active, proxy active, agent active\nSession:   up (exec and connect work)'

# 5-8. a failed unit: the stages reached, then what failed and where to look, exit 8
out=$(create bad 2>&1); rc=$?
check "a failed unit exits 8" "$rc" 8
expect "it names the failed unit" "$out" "sandbox 'bad' is not ready: the proxy unit failed."
expect "it says where to look (the CLI)" "$out" "'openshell sandbox logs bad'"
expect "it says where to look (the journal)" "$out" "-u openshell-proxy-bad.service'"

# 9-11. never ready: --timeout ends the wait with exit 8 and what it was waiting for
start=$(date +%s)
out=$(create slow --timeout 2s 2>&1); rc=$?
took=$(( $(date +%s) - start ))
check "--timeout exits 8" "$rc" 8
expect "it says what it was waiting for" "$out" "still waiting for the agent's gateway session after 2s (--timeout)"
[ "$took" -lt 30 ] && ok "--timeout 2s ended the wait (${took}s)" || fail "--timeout 2s ended the wait" "took ${took}s"

# 12. a gateway that cannot see systemd: nothing to follow, not an error
out=$(create nosd 2>&1); rc=$?
check "state unknown: exit 0, says it does not wait" "$rc/$out" \
        "0/nosd: created"$'\n'"nosd: state unknown (the gateway cannot see systemd), not waiting"

# 13. unknown after known states: a moment without systemd, the wait goes on
out=$(create flaky 2>&1); rc=$?
check "state unknown after known states: still followed to 'agent ready'" "$rc/$out" \
        "0/flaky: created"$'\n'"flaky: network ready"$'\n'"flaky: volume ready"$'\n'"flaky: proxy ready"$'\n'"flaky: agent ready"

# 14-15. --no-wait: created, no polling
: >"$WORK/requests"
out=$(create good --no-wait 2>&1); rc=$?
check "--no-wait: created, exit 0" "$rc/$out" "0/good: created"
check "--no-wait: no GET" "$(grep -c '^GET' "$WORK/requests")" 0

# 16-18. on a terminal: one line, redrawn in place (cursor up, erase) from the line below it
if command -v script >/dev/null; then
        CMD="$CLI -g http://127.0.0.1:$PORT sandbox create good --image x"
        script -qec "$CMD" /dev/null >"$WORK/tty.out" 2>&1 </dev/null; rc=$?
        check "on a terminal: exit 0" "$rc" 0
        expect "the line is redrawn in place" "$(cat -v "$WORK/tty.out")" '^[[A^M^[[Kgood: [1/4] network ready, waiting for the volume'
        expect "and ends at [4/4] agent ready" "$(cat -v "$WORK/tty.out")" 'good: [4/4] agent ready ('
else
        for _ in 1 2 3; do ok "terminal output # skip: script(1) not installed"; done
fi

[ "$FAILED" -eq 0 ] || { echo "# fake gateway:"; sed 's/^/#   /' "$WORK/fake.log" | tail -20; }
exit $((FAILED > 0))
