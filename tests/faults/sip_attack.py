#!/usr/bin/env python3
"""Hostile SIP input for a running ngvoice daemon (tests/faults/sip_hostile.sh).

Python 3, standard library only. Every round prints a table of what was sent
and what came back, then one line per check: "CHECK ok TEXT" or
"CHECK bad TEXT" (the case turns them into its ok / FAIL lines).

  sip_attack.py torture  COMMON --dir DIR --expected FILE [--udp PORT] [--tcp PORT]
  sip_attack.py limits   COMMON [--udp PORT]
  sip_attack.py garbage  COMMON [--udp PORT] [--tcp PORT]

COMMON: --host 127.0.0.1 --tls PORT --cert PEM --key KEY --ca PEM
        --name NAME (the name the server certificate must carry)
"""
import argparse
import os
import random
import re
import socket
import ssl
import sys
import threading
import time

CHECKS = []


def check(good, text, known=None):
    """One check; when it fails and known names the fault, a known failure
    (printed, not failing the case)."""
    if not good and known:
        print("CHECK known %s" % known, flush=True)
        return
    CHECKS.append(bool(good))
    print("CHECK %s %s" % ("ok" if good else "bad", text), flush=True)


def say(text=""):
    print(text, flush=True)


# ---- channels ----

class Chan:
    """A TLS (or TCP) connection, or a connected UDP socket, to the daemon,
    with what came back: SIP messages (framed by Content-Length on a
    stream), CRLF pongs, and whether the far end closed."""

    def __init__(self, args, kind, rcvbuf=None):
        self.kind = kind
        self.buf = b""
        self.msgs = []  # heads (start line + headers) of messages received
        self.pongs = 0
        self.closed = False  # the far end closed: seen by a read
        self.close_how = ""
        self.send_error = ""  # a write failed: what came back may still be read
        fam = socket.AF_INET
        if kind == "udp":
            self.s = socket.socket(fam, socket.SOCK_DGRAM)
            self.s.connect((args.host, args.udp))
            return
        s = socket.socket(fam, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(15)
        s.connect((args.host, args.tcp if kind == "tcp" else args.tls))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if kind == "tls":
            s = tls_ctx(args).wrap_socket(s, server_hostname=args.name)
        self.s = s

    def send(self, data):
        """Sends it all; False when the far end closed meanwhile (an answer
        it sent before closing stays readable)."""
        if self.closed or self.send_error:
            return False
        try:
            if self.kind == "udp":
                self.s.send(data)
            else:
                self.s.settimeout(15)
                self.s.sendall(data)
            return True
        except (OSError, ssl.SSLError) as e:
            self.send_error = type(e).__name__
            return False

    def pump(self, timeout):
        """Reads what arrives within timeout (seconds); returns the number
        of bytes read, 0 on timeout, -1 when the far end closed."""
        if self.closed:
            return -1
        self.s.settimeout(max(timeout, 0.001))
        try:
            if self.kind == "udp":
                d = self.s.recv(65536)
                if d.strip(b"\r\n") == b"":
                    self.pongs += 1
                else:
                    self.msgs.append(d)
                return len(d)
            d = self.s.recv(65536)
        except socket.timeout:
            return 0
        except ssl.SSLWantReadError:
            return 0
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError,
                OSError) as e:
            if self.kind == "udp" and isinstance(e, ConnectionRefusedError):
                return 0
            self.closed = True
            self.close_how = type(e).__name__
            return -1
        if d == b"":
            self.closed = True
            self.close_how = "EOF"
            return -1
        self.buf += d
        self.frame()
        return len(d)

    def frame(self):
        while True:
            i = 0
            while self.buf[i:i + 2] == b"\r\n":
                i += 2
            if i:
                self.pongs += i // 2
                self.buf = self.buf[i:]
            e = self.buf.find(b"\r\n\r\n")
            if e < 0:
                return
            head = self.buf[:e + 4]
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                n, _, v = line.partition(b":")
                if n.strip().lower() in (b"content-length", b"l"):
                    try:
                        clen = int(v.strip())
                    except ValueError:
                        clen = 0
            if len(self.buf) < e + 4 + clen:
                return
            self.msgs.append(head)
            self.buf = self.buf[e + 4 + clen:]

    def finals(self):
        return [m for m in self.msgs if status(m) >= 200]

    def wait_final(self, timeout):
        """Reads until a final response came, the far end closed, or
        timeout; returns the first final response's head or None."""
        end = time.time() + timeout
        while True:
            f = self.finals()
            if f:
                return f[0]
            left = end - time.time()
            if left <= 0 or self.pump(left) < 0:
                f = self.finals()
                return f[0] if f else None

    def wait_close(self, timeout):
        end = time.time() + timeout
        while not self.closed and time.time() < end:
            self.pump(end - time.time())
        return self.closed

    def close(self):
        """Closes; a TLS connection with a close_notify first, as a phone
        would (a bare TCP close is logged by the daemon as a connection
        error, which would bury the lines this case looks for)."""
        if self.kind == "tls" and not self.closed:
            try:
                self.s.settimeout(0.5)
                self.s.unwrap()
            except (OSError, ValueError, ssl.SSLError):
                pass
        try:
            self.s.close()
        except OSError:
            pass


_CTX = {}


def tls_ctx(args):
    if "c" not in _CTX:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_verify_locations(args.ca)
        ctx.load_cert_chain(args.cert, args.key)
        _CTX["c"] = ctx
    return _CTX["c"]


def status(head):
    m = re.match(rb"SIP/2\.0 (\d{3}) ?([^\r\n]*)", head)
    return int(m.group(1)) if m else 0


def reason(head):
    m = re.match(rb"SIP/2\.0 (\d{3}) ?([^\r\n]*)", head)
    return m.group(2).decode("utf-8", "replace") if m else ""


def brief(head, width=44):
    if head is None:
        return "none"
    s = "%d %s" % (status(head), reason(head))
    return s if len(s) <= width else s[:width - 3] + "..."


_SEQ = [0]


def request(args, kind, method="OPTIONS", ruri=None, extra=b"", body=b"",
            clen=None, via_extra=b""):
    """A well-formed request from a phone, with extra headers/body."""
    _SEQ[0] += 1
    n = _SEQ[0]
    ruri = ruri or ("sip:%s:%d" % (args.name, args.tls)).encode()
    tp = {"tls": b"TLS", "tcp": b"TCP", "udp": b"UDP"}[kind]
    clen = len(body) if clen is None else clen
    return (method.encode() + b" " + ruri + b" SIP/2.0\r\n"
            b"Via: SIP/2.0/" + tp + b" 127.0.0.1:5061;branch=z9hG4bKhostile%d"
            b"-%d;rport\r\n" % (n, os.getpid()) + via_extra +
            b"Max-Forwards: 70\r\n"
            b"From: <sip:hostile@127.0.0.1>;tag=h%d\r\n"
            b"To: <sip:%s>\r\n"
            b"Call-ID: hostile-%d-%d@127.0.0.1\r\n"
            b"CSeq: %d %s\r\n" % (n, args.name.encode(), n, os.getpid(), n,
                                  method.encode()) + extra +
            b"Content-Length: %d\r\n\r\n" % clen + body)


def alive(args, kind="tls"):
    """An OPTIONS on a fresh channel gets 200."""
    try:
        c = Chan(args, kind)
        c.send(request(args, kind))
        f = c.wait_final(5)
        c.close()
        return f is not None and status(f) == 200
    except OSError:
        return False


def table(rows, heads):
    w = [max(len(str(r[i])) for r in rows + [heads]) for i in range(len(heads))]
    fmt = "| " + " | ".join("%%-%ds" % x for x in w) + " |"
    say(fmt % tuple(heads))
    say("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        say(fmt % tuple(r))


# ---- round 1: RFC 4475 ----

def torture(args):
    cases = []
    for line in open(args.expected):
        line = line.split("#")[0].split()
        if len(line) >= 4 and line[0].endswith(".dat"):
            cases.append(line[:4])
    jobs = []
    for f, parse, udp, stream in cases:
        jobs.append((f, parse, udp, stream, "tls"))
        if args.tcp:
            jobs.append((f, parse, udp, stream, "tcp"))
        if args.udp:
            jobs.append((f, parse, udp, stream, "udp"))
    res = {}
    lock = threading.Lock()

    def one(job):
        f, parse, udp, stream, kind = job
        data = open(os.path.join(args.dir, f), "rb").read()
        # the answer expected of the parser on this transport
        if parse == "ok":
            want = "any"
        elif parse == "drop":
            want = "none"
        elif kind != "udp" and stream == "none":
            want = "none"  # on a stream: wait for the missing bytes
        else:
            want = parse
        t0 = time.time()
        try:
            c = Chan(args, kind)
        except (OSError, ssl.SSLError) as e:
            with lock:
                res[job] = (want, None, False, "connect: %s" % e, 0)
            return
        c.send(data)
        head = c.wait_final(1.5 if want == "none" else 4)
        closed = c.closed
        if kind != "udp" and not closed:
            closed = c.wait_close(0.3)
        ms = int((time.time() - t0) * 1000)
        c.close()
        with lock:
            res[job] = (want, head, closed, c.close_how, ms)

    queue = list(jobs)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop(0)
            one(job)

    t0 = time.time()
    th = [threading.Thread(target=worker) for _ in range(args.workers)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    secs = time.time() - t0

    rows = []
    bad = []
    kinds = ["tls"] + (["tcp"] if args.tcp else []) + (["udp"] if args.udp else [])
    counts = {k: [0, 0] for k in kinds}
    for f, parse, udp, stream in cases:
        row = [f, parse]
        verdicts = []
        for kind in kinds:
            job = (f, parse, udp, stream, kind)
            if job not in res:
                row.append("-")
                continue
            want, head, closed, how, ms = res[job]
            got = brief(head)
            if kind != "udp" and closed:
                got += " +close"
            row.append(got)
            code = status(head) if head is not None else None
            if want == "any":
                good = True
            elif want == "none":
                good = head is None
            else:
                good = code == int(want)
            if want != "any":
                counts[kind][0] += 1
                counts[kind][1] += good
            if not good:
                bad.append("%s over %s: want %s, got %s" %
                           (f, kind.upper(), want, got))
            verdicts.append("" if good else "MISMATCH(%s)" % kind)
        row.append(" ".join(v for v in verdicts if v) or "ok")
        rows.append(row)
    say("RFC 4475 over %s against the running daemon (%d messages, one "
        "fresh connection or socket each, %d at a time, %.1f s):" % (
            ", ".join(k.upper() for k in kinds), len(cases), args.workers,
            secs))
    table(rows, ["file", "parse"] +
          ["%s: first final%s" % (k.upper(), "" if k == "udp" else
                                  " (+close)") for k in kinds] + ["verdict"])
    for b in bad:
        say("  " + b)
    for kind in kinds:
        n, g = counts[kind]
        check(g == n, "RFC 4475 over %s: %d of %d messages the parser rejects "
              "got the expected answer (NNN, or none for drop / a stream "
              "waiting for bytes)" % (kind.upper(), g, n))
    valid = [c for c in cases if c[1] == "ok"]
    answered = {}
    for kind in kinds:
        answered[kind] = sum(1 for c in valid if (tuple(c) + (kind,)) in res
                             and res[tuple(c) + (kind,)][1] is not None)
    say("messages the parser accepts, answered by the call manager (not "
        "checked): " + ", ".join("%s %d of %d" % (k.upper(), answered[k],
                                                   len(valid)) for k in kinds))
    for kind in kinds:
        check(alive(args, kind), "after the RFC 4475 round an OPTIONS over "
              "%s gets 200" % kind.upper())


# ---- round 2: each configured limit ----

def limits(args):
    rows = []
    name = args.name.encode()

    def one(label, data, want_codes, want_reason, may_close=True,
            must_close=False, kind="tls", wait=4):
        t0 = time.time()
        c = Chan(args, kind)
        sent = c.send(data)
        head = c.wait_final(wait)
        closed = c.closed or (kind != "udp" and c.wait_close(1.5))
        ms = int((time.time() - t0) * 1000)
        c.close()
        code = status(head) if head is not None else None
        got = brief(head, 60) + (" +close" if closed else "")
        good = code in want_codes if want_codes else head is None
        if good and head is not None and want_reason:
            good = want_reason in reason(head)
        if must_close and not closed:
            good = False
        if not may_close and closed:
            good = False
        rows.append([label, kind.upper(), "%d" % len(data), got,
                     "%d ms" % ms])
        return good, got

    # max_start_line (4096): a Request-URI of 5,000 bytes
    ruri = b"sip:" + b"a" * 5000 + b"@" + name
    g, got = one("start line 5,038 bytes (max_start_line 4096)",
                 request(args, "tls", ruri=ruri), [414, 400, 413], "4096",
                 may_close=True)
    # Not yet: sip_msg_parse() gives the start line status 0 ("Start line
    # too long or unterminated") before it reads the headers, so the
    # transport drops the request (a debug line only) although its Via
    # and CSeq would allow an answer; docs/configuration.md promises one.
    check(g, "max_start_line: a 5,038-byte request line over TLS gets an "
          "answer naming the limit (414/400/413 with 4096 in the reason): "
          "got %s" % got,
          known=None if g else
          "max_start_line: a request whose request line is over 4096 bytes "
          "(5,038, a long Request-URI; Via and CSeq well-formed) gets no "
          "answer and leaves no log line (dropped at debug level: \"Start "
          "line too long or unterminated\"); the connection stays open. "
          "docs/configuration.md: an answer naming the limit. Got: %s" % got)
    # max_headers (128): 140 header lines, Via and CSeq first
    extra = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(134))
    g, got = one("140 header lines (max_headers 128)",
                 request(args, "tls", extra=extra), [400], "128",
                 may_close=True)
    check(g, "max_headers: 140 header lines over TLS get 400 naming 128: "
          "got %s" % got)
    # max_header_bytes (16384): 70 headers of 300 bytes, 21 kB
    extra = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 288) for i in range(70))
    g, got = one("header section 21 kB (max_header_bytes 16384)",
                 request(args, "tls", extra=extra), [413, 400, None], "16384",
                 must_close=True)
    check(g, "max_header_bytes: a 21 kB header section over TLS gets 413 "
          "naming 16384 or the documented disconnect: got %s" % got)
    # max_body (65536): Content-Length 70,000 with the body
    body = b"b" * 70000
    g, got = one("Content-Length 70,000 (max_body 65536)",
                 request(args, "tls", method="MESSAGE", body=body,
                         extra=b"Content-Type: text/plain\r\n"),
                 [413], "65536", must_close=True)
    check(g, "max_body: Content-Length 70,000 over TLS gets 413 naming 65536, "
          "then the connection is closed: got %s" % got)
    if args.udp:
        # the same limits over UDP, for the table (not checked: a datagram
        # whose headers do not parse has no Via to answer)
        one("start line 5,038 bytes", request(args, "udp", ruri=ruri),
            None, None, kind="udp", wait=1.5)
        extra = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(134))
        g, got = one("140 header lines", request(args, "udp", extra=extra),
                     [400], "128", kind="udp")
        check(g, "max_headers over UDP: 400 naming 128: got %s" % got)
        extra = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 288)
                         for i in range(70))
        one("header section 21 kB", request(args, "udp", extra=extra),
            None, None, kind="udp", wait=1.5)
        g, got = one("Content-Length 70,000, 1,000-byte body",
                     request(args, "udp", method="MESSAGE", body=b"b" * 1000,
                             clen=70000,
                             extra=b"Content-Type: text/plain\r\n"),
                     [413], "65536", kind="udp")
        check(g, "max_body over UDP: Content-Length 70,000 gets 413 naming "
              "65536: got %s" % got)

    # max_conn_buf (256 KiB each way): requests whose answers are large
    # (40 Via headers of 300 bytes, copied into each answer), pipelined,
    # and never read.
    vias = b"".join(b"Via: SIP/2.0/TLS 10.%d.%d.%d:5061;branch=z9hG4bK%s\r\n"
                    % (i, i, i, b"v" * 250) for i in range(40))
    t0 = time.time()
    c = Chan(args, "tls", rcvbuf=4096)
    n = 0
    sent = 0
    while time.time() - t0 < 25 and sent < 40 * 1024 * 1024:
        m = request(args, "tls", via_extra=vias)
        if not c.send(m):
            break
        n += 1
        sent += len(m)
    closed = c.closed or bool(c.send_error)
    how = c.close_how or c.send_error
    if not closed:
        # the daemon may still be working through what we sent
        c.s.settimeout(15)
        end = time.time() + 15
        while time.time() < end:
            try:
                c.s.sendall(b"\r\n\r\n")
                time.sleep(0.2)
            except (OSError, ssl.SSLError) as e:
                closed = True
                how = type(e).__name__
                break
    secs = time.time() - t0
    c.close()
    rows.append(["%d pipelined requests (12 kB answers), never read "
                 "(max_conn_buf 256 KiB)" % n, "TLS", "%d" % sent,
                 "closed (%s)" % how if closed else "still open",
                 "%d ms" % int(secs * 1000)])
    check(closed, "max_conn_buf: a peer that sends requests whose answers "
          "it never reads is disconnected: %d requests (%.1f MB) sent before "
          "the close was seen, %d ms after connecting (%s)"
          % (n, sent / 1e6, secs * 1000, how or "not closed"))
    say("Limits against the running daemon (one fresh connection each):")
    table(rows, ["message", "over", "bytes", "answer (+close)", "time"])
    check(alive(args), "after the limits an OPTIONS over TLS gets 200")


# ---- round 3: garbage and fragments ----

def garbage(args):
    rng = random.Random(4475)
    rows = []

    # random bytes over TLS: no CR or LF, so no blank line ever ends them
    data = bytes(rng.choice([b for b in range(256) if b not in (10, 13)])
                 for _ in range(32768))
    c = Chan(args, "tls")
    c.send(data)
    head = c.wait_final(3)
    closed = c.wait_close(5)
    rows.append(["32 kB random bytes (no CR/LF)", "TLS", brief(head) +
                 (" +close" if closed else "")])
    c.close()
    check(closed and (head is None or status(head) >= 400),
          "random bytes over TLS: the connection is closed (%s)" %
          (brief(head) if head is not None else "no answer"))
    # random bytes with CR/LF in them over TLS
    data = bytes(rng.randrange(256) for _ in range(32768))
    c = Chan(args, "tls")
    c.send(data)
    head = c.wait_final(3)
    closed = c.wait_close(5)
    rows.append(["32 kB random bytes", "TLS", brief(head) +
                 (" +close" if closed else "")])
    c.close()
    check(closed, "random bytes (with CR and LF) over TLS: the connection "
          "is closed (%s)" % (brief(head) if head is not None else
                              "no answer"))
    if args.tcp:
        c = Chan(args, "tcp")
        c.send(data)
        head = c.wait_final(3)
        closed = c.wait_close(5)
        rows.append(["32 kB random bytes", "TCP", brief(head) +
                     (" +close" if closed else "")])
        c.close()
        check(closed, "random bytes over TCP: the connection is closed")
    if args.udp:
        c = Chan(args, "udp")
        for i in range(200):
            c.send(bytes(rng.randrange(256) for _ in range(rng.randrange(5, 1400))))
        end = time.time() + 1.5
        while time.time() < end:
            c.pump(end - time.time())
        rows.append(["200 random datagrams", "UDP",
                     "%d answers" % len(c.msgs)])
        c.close()
        check(len(c.msgs) == 0, "200 random datagrams over UDP: no answer "
              "(%d)" % len(c.msgs))

    # a request in 1-byte TLS records
    c = Chan(args, "tls")
    m = request(args, "tls")
    t0 = time.time()
    for b in m:
        if not c.send(bytes([b])):
            break
    head = c.wait_final(5)
    ms = int((time.time() - t0) * 1000)
    rows.append(["OPTIONS in %d 1-byte TLS records" % len(m), "TLS",
                 brief(head) + (" +close" if c.closed else "")])
    check(head is not None and status(head) == 200,
          "an OPTIONS sent as %d 1-byte TLS records gets 200 (%d ms): %s" %
          (len(m), ms, brief(head)))
    # the same connection takes a second request at once
    c.send(request(args, "tls"))
    c.msgs = []
    head = c.wait_final(5)
    check(head is not None and status(head) == 200,
          "the same connection then answers a whole OPTIONS: %s" % brief(head))
    c.close()

    # Content-Length larger than what follows, then close
    body = b"v=0\r\n" * 20
    c = Chan(args, "tls")
    c.send(request(args, "tls", method="MESSAGE", body=body, clen=500,
                   extra=b"Content-Type: text/plain\r\n"))
    head = c.wait_final(1.5)
    rows.append(["Content-Length 500, 100 bytes follow, then close", "TLS",
                 brief(head) + (" +close" if c.closed else "")])
    check(head is None and not c.closed,
          "Content-Length 500 with 100 bytes: the daemon waits for the rest "
          "(no answer, connection open, 1.5 s); then the client closes")
    c.close()

    # CRLF keep-alives (RFC 5626 3.5.1): a ping gets a pong, a flood
    # leaves the connection usable
    c = Chan(args, "tls")
    c.send(b"\r\n\r\n")
    end = time.time() + 3
    while c.pongs == 0 and time.time() < end and c.pump(end - time.time()) >= 0:
        pass
    got_pong = c.pongs
    exact = c.buf == b"" and not c.msgs
    check(got_pong == 1 and exact, "a CRLFCRLF ping over TLS gets one CRLF "
          "pong (RFC 5626 3.5.1): %d pong(s)" % got_pong)
    t0 = time.time()
    n = 20000
    for i in range(n):
        if not c.send(b"\r\n\r\n"):
            break
    c.send(request(args, "tls"))
    head = c.wait_final(10)
    secs = time.time() - t0
    rows.append(["1 ping, then %d pings in separate records, then OPTIONS" % n,
                 "TLS", "%d pongs, %s%s" % (c.pongs, brief(head),
                                            " +close" if c.closed else "")])
    check(head is not None and status(head) == 200 and not c.closed
          and c.pongs >= 2,
          "a flood of %d CRLF pings: %d pongs, the connection stays up and "
          "its next OPTIONS gets 200 (%.1f s)" % (n, c.pongs, secs))
    c.close()

    # one header line of 100 kB
    extra = b"Subject: " + b"s" * 100000 + b"\r\n"
    c = Chan(args, "tls")
    c.send(request(args, "tls", extra=extra))
    head = c.wait_final(3)
    closed = c.wait_close(5)
    rows.append(["a header line of 100 kB", "TLS",
                 brief(head, 60) + (" +close" if closed else "")])
    check(closed and (head is None or status(head) in (413, 400)),
          "a 100 kB header line over TLS: %s, the connection is closed" %
          (brief(head, 60) if head is not None else "no answer"))
    c.close()
    if args.udp:
        extra = b"Subject: " + b"s" * 60000 + b"\r\n"
        c = Chan(args, "udp")
        c.send(request(args, "udp", extra=extra))
        head = c.wait_final(1.5)
        rows.append(["a header line of 60 kB", "UDP", brief(head, 60)])
        c.close()
    say("Garbage and fragments against the running daemon:")
    table(rows, ["what", "over", "what came back"])
    check(alive(args), "after the garbage an OPTIONS over TLS gets 200")
    if args.udp:
        check(alive(args, "udp"), "after the garbage an OPTIONS over UDP gets 200")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("round", choices=["torture", "limits", "garbage"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--tls", type=int, required=True)
    p.add_argument("--udp", type=int, default=0)
    p.add_argument("--tcp", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--name", default="cucm.ngvoice.localhost")
    p.add_argument("--dir")
    p.add_argument("--expected")
    p.add_argument("--workers", type=int, default=6)
    args = p.parse_args()
    {"torture": torture, "limits": limits, "garbage": garbage}[args.round](args)
    sys.exit(0 if all(CHECKS) else 1)


if __name__ == "__main__":
    main()
