#!/usr/bin/env bash
# Hostile TLS peers at the call manager's 5061 (issue 9): 2,000 connections
# that never speak, a slow sender (one byte a second), garbage instead of a
# ClientHello, a flood of handshakes with an untrusted certificate, a client
# that renegotiates. The caps and timeouts hold, memory stays bounded, the
# daemon logs what it refused, and a legitimate phone registers and reaches
# the voicemail pilot meanwhile.
# usage: tls_hostile.sh NGVOICE WAVCORR PROMPTS_DIR
NGV=$1
WAVCORR=$2
PROMPTS=$3
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is needed for the hostile clients"; exit 77; }
cd "$TMP"
make_certs
write_configs
start_vm
# AddressSanitizer's quarantine would hold freed memory: give it back.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
ok "trunk CUCv11 in Full Service"
rss() { awk '/VmRSS/ {print $2}' /proc/"$CM_PID"/status; }
conns() { # established TCP connections to the TLS port
	ss -Htn state established "( sport = :$TLS )" 2>/dev/null | wc -l
}
base=$(rss)
# An untrusted client identity for the flood.
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout evil.key -out evil.pem -days 2 -subj "/CN=evil.example" 2>/dev/null

cat >hostile.py <<'PY'
import socket, ssl, sys, time, threading
port = int(sys.argv[2])
what = sys.argv[1]
if what == "idle":
    n = int(sys.argv[3]); hold = float(sys.argv[4])
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    print("opened", len(socks), flush=True)
    time.sleep(hold)
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except socket.timeout:
            pass
    print("closed_by_server", closed, flush=True)
elif what == "slow":
    # a real ClientHello, one byte a second
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    try:
        for b in hello:
            s.sendall(bytes([b]))
            time.sleep(1)
            if time.time() - t0 > 40:
                break
        print("slow: sent everything", flush=True)
    except (ConnectionResetError, BrokenPipeError):
        print("slow: closed after %.1f s" % (time.time() - t0), flush=True)
elif what == "garbage":
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)) * 4)
    s.settimeout(5)
    t0 = time.time()
    try:
        data = s.recv(100)
        print("garbage: closed after %.1f s (%d bytes back)" % (time.time() - t0, len(data)), flush=True)
    except (ConnectionResetError, socket.timeout) as e:
        print("garbage: %s after %.1f s" % (type(e).__name__, time.time() - t0), flush=True)
elif what == "flood":
    n = int(sys.argv[3]); cert, key = sys.argv[4], sys.argv[5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(cert, key)
    refused = [0]
    def one():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            t = ctx.wrap_socket(s)
            t.sendall(b"OPTIONS sip:x SIP/2.0\r\n\r\n")
            if t.recv(10) == b"":
                refused[0] += 1
        except Exception:
            refused[0] += 1
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("flood: refused", refused[0], "of", n, flush=True)
PY

# 1. 2,000 connections that never speak: the handshake timeout (10 s) closes them.
python3 hostile.py idle "$TLS" 2000 14 >idle.out 2>&1 &
IDLE=$!
PIDS+=($IDLE)
wait_for 15 grep -q opened idle.out || { bad "could not open 2,000 connections"; cat idle.out >&2; }
sleep 1
peak=$(rss)
held=$(conns)
ok "2,000 silent TCP connections to 5061 open (the daemon holds $held; RSS $peak kB, $((peak - base)) kB more)"
# meanwhile a legitimate phone registers and calls the pilot
phone 1001 phone-secret --dial 2000 --duration 3 >legit1.out 2>&1 &&
	grep -q "security: Encrypted" legit1.out &&
	ok "meanwhile a legitimate phone registered and reached the pilot: $(grep -m1 'answered' legit1.out)" ||
	{ bad "the legitimate call failed during the silent connections"; cat legit1.out >&2; }
wait "$IDLE" || true
c=$(sed -n 's/closed_by_server //p' idle.out)
[ "${c:-0}" -ge 1990 ] && ok "the handshake timeout closed $c of 2,000 silent connections" ||
	bad "only ${c:-0} of 2,000 silent connections were closed by the server"
# More waves: the allocator's arenas settle after the second; a third must
# not add to it (no leak per connection).
wave() { # wave OUT: a wave of 2,000 silent connections; prints the peak RSS
	python3 hostile.py idle "$TLS" 2000 12 >"$1" 2>&1 &
	local p=$!
	wait_for 15 grep -q opened "$1" || true
	sleep 1
	rss
	wait "$p" || true
}
peak2=$(wave idle2.out)
peak3=$(wave idle3.out)
[ "$peak3" -le $((peak2 + peak2 / 10)) ] &&
	ok "memory is bounded: waves of 2,000 peak at $peak, $peak2, $peak3 kB ($(((peak - base) / 2000)) kB per silent connection)" ||
	bad "memory keeps growing with waves of 2,000: $peak, $peak2, $peak3 kB"

# 2. a slow sender: 1 byte/s of ClientHello
mark "$CM_LOG"
timeout 60 python3 hostile.py slow "$TLS" >slow.out 2>&1 || true
grep -q "slow: closed after" slow.out && ok "$(cat slow.out) (handshake timeout)" ||
	bad "the slow sender was not cut off: $(cat slow.out)"

# 3. garbage instead of a ClientHello
timeout 20 python3 hostile.py garbage "$TLS" >garbage.out 2>&1 || true
grep -Eq "garbage: (closed|ConnectionResetError)" garbage.out && ok "$(cat garbage.out)" ||
	bad "garbage bytes: $(cat garbage.out)"
grep_new "$CM_LOG" "TLS handshake failed" && ok "the log names the failed handshakes: $(new_lines "$CM_LOG" | grep -m1 -o 'TLS handshake failed.*' | cut -c1-120)" ||
	bad "no handshake failure in the log"

# 4. 500 parallel handshakes with an untrusted certificate
timeout 120 python3 hostile.py flood "$TLS" 500 evil.pem evil.key >flood.out 2>&1 || true
grep -q "flood: refused 500 of 500" flood.out && ok "$(cat flood.out) (untrusted client certificate)" ||
	bad "handshake flood: $(cat flood.out)"
phone 1001 phone-secret --dial 2000 --duration 2 >legit2.out 2>&1 &&
	ok "after the flood a legitimate call still works" ||
	{ bad "the legitimate call failed after the flood"; cat legit2.out >&2; }

# 5. a client that renegotiates (trusted certificate): refused
(sleep 1; echo R; sleep 2) | timeout 10 openssl s_client -connect "127.0.0.1:$TLS" \
	-cert ph/tomcat.pem -key ph/tomcat.key -tls1_2 >reneg.out 2>&1 || true
if grep -q "RENEGOTIATING" reneg.out && grep -Eqi "no renegotiation|alert|errno|error" reneg.out; then
	ok "renegotiation refused: $(grep -Eim1 'no renegotiation|alert' reneg.out | cut -c1-100)"
else
	bad "renegotiation was not refused"
	tail -5 reneg.out >&2
fi
alive "$CM_PID" && ok "the call manager is still running and serving" || bad "the call manager died"
finish
