#!/usr/bin/env python3
"""Hostile media for the fault case media_hostile (docs/reliability.md).

attack: sniffs the loopback interface (AF_PACKET on "lo") for the RTP/SRTP
flow that arrives at one of the voicemail server's UDP ports (--dst-ports;
SIP runs over TLS, so the flow is found from the packets: UDP, RTP version 2,
the busiest source/SSRC), captures some of its real SRTP packets, then sends,
from the phone's own address and port (spoofed with a raw IPv4 socket,
IP_HDRINCL, UDP checksum 0), in ROUNDS interleaved rounds:

  garbage      random bytes that are not RTP (version != 2)     -> rx_malformed
  forged       a valid RTP header with the flow's SSRC and the
               next sequence numbers ahead, random payload      -> rx_auth_fail
  resequenced  a captured packet with its sequence number moved
               ahead (a replay dressed as new)                   -> rx_auth_fail
  replay       captured packets as they were                     -> rx_replay
  tampered     captured packets with one payload bit flipped     -> rx_replay
               (RFC 3711 3.3: the replay check comes before the
               authentication, and these indexes were received)
  unknown_peer random bytes from another source port              -> rx_unknown

and prints what it found and sent as one JSON object.

same-audio A.wav B.wav: how many 20 ms frames of B's sound appear bit-exact
in A, at one offset or near it (two recordings of the same played file, as
the voicemail server stores G.711 payloads unchanged), as JSON.

Standard library only; needs root (packet and raw sockets).
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def newer(a, b):
    """RTP sequence a is after b (mod 2^16)."""
    return a != b and ((a - b) & 0xFFFF) < 0x8000


def ip_checksum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Sniffer:
    def __init__(self, ports):
        self.ports = ports
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind(("lo", ETH_P_IP))
        self.s.setblocking(False)

    def packets(self, timeout):
        """(src, sport, dst, dport, udp payload) of UDP datagrams to a
        watched port, as received (not the outgoing copies), for up to
        timeout seconds (0: what is queued now)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left > 0:
                r, _, _ = select.select([self.s], [], [], left)
                if not r:
                    return
            try:
                data, addr = self.s.recvfrom(65535)
            except BlockingIOError:
                if left <= 0:
                    return
                continue
            if addr[2] == PACKET_OUTGOING or len(data) < 28:
                continue
            ihl = (data[0] & 0x0F) * 4
            if data[0] >> 4 != 4 or data[9] != socket.IPPROTO_UDP:
                continue
            sport, dport = struct.unpack("!HH", data[ihl:ihl + 4])
            if dport not in self.ports:
                continue
            yield (socket.inet_ntoa(data[12:16]), sport,
                   socket.inet_ntoa(data[16:20]), dport, data[ihl + 8:])


def is_rtp(p):
    return len(p) >= 12 and p[0] >> 6 == 2 and not 192 <= p[1] <= 223


def attack(a):
    ports = {int(x) for x in a.dst_ports.split(",") if x}
    sn = Sniffer(ports)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rnd = random.Random(a.seed)

    # 1. Find the flow: the busiest (source, destination, SSRC) of RTP v2.
    flows = {}
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.find_s:
        for src, sp, dst, dp, p in sn.packets(0.2):
            if is_rtp(p):
                k = (src, sp, dst, dp, struct.unpack("!I", p[8:12])[0])
                flows.setdefault(k, []).append(p)
        if flows and max(len(v) for v in flows.values()) >= a.capture:
            break
    if not flows:
        print(json.dumps({"error": "no RTP flow to ports %s" % sorted(ports)}))
        return 1
    t_found = time.monotonic()
    key, caps = max(flows.items(), key=lambda kv: len(kv[1]))
    src, sport, dst, dport, ssrc = key
    if len(caps) < 8:
        print(json.dumps({"error": "flow %s:%d -> %s:%d has only %d packets" % (src, sport, dst, dport, len(caps))}))
        return 1
    caps = caps[-a.capture:]
    pt = caps[-1][1] & 0x7F
    plen = len(caps[-1]) - 12
    last = struct.unpack("!H", caps[-1][2:4])[0]
    last_ts = struct.unpack("!I", caps[-1][4:8])[0]
    first_seq = struct.unpack("!H", caps[0][2:4])[0]
    mine = set()  # what we sent, not to be mistaken for the phone's packets
    seen = len(caps)

    def track():
        nonlocal last, last_ts, seen
        for s, sp, d, dp, p in sn.packets(0):
            if (s, sp, d, dp) != (src, sport, dst, dport) or p in mine or not is_rtp(p):
                continue
            if struct.unpack("!I", p[8:12])[0] != ssrc:
                continue
            seen += 1
            q = struct.unpack("!H", p[2:4])[0]
            if newer(q, last):
                last, last_ts = q, struct.unpack("!I", p[4:8])[0]
                caps.append(p)
                del caps[:-a.capture]

    def send(payload, from_port=None):
        sp = sport if from_port is None else from_port
        udp = struct.pack("!HHHH", sp, dport, 8 + len(payload), 0) + payload
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), rnd.randrange(1, 65536), 0,
                        64, socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton(dst))
        h = h[:10] + struct.pack("!H", ip_checksum(h)) + h[12:]
        mine.add(payload)
        return raw.sendto(h + udp, (dst, 0)) == len(h) + len(udp)

    # Until the time to start, follow the flow (fresh packets to copy).
    while time.monotonic() - t0 < a.start_in:
        time.sleep(min(0.1, max(0.0, a.start_in - (time.monotonic() - t0))))
        track()
    other = sport + 1000 if sport < 64000 else sport - 1000
    kinds = ["garbage", "forged", "resequenced", "replay", "tampered", "unknown_peer"]
    sent = {k: 0 for k in kinds}
    failed = 0
    ahead = 0
    t1 = time.monotonic()
    per = [a.count // a.rounds + (1 if r < a.count % a.rounds else 0) for r in range(a.rounds)]
    for r in range(a.rounds):
        if r:
            time.sleep(a.round_gap)
        track()
        todo = [k for k in kinds for _ in range(per[r])]
        rnd.shuffle(todo)
        for k in todo:
            if k == "garbage":
                b = bytearray(rnd.randbytes(rnd.randint(1, 1400)))
                b[0] = (b[0] & 0x3F) | rnd.choice([0x00, 0x40, 0xC0])  # version 0, 1 or 3
                p = bytes(b)
            elif k in ("forged", "resequenced"):
                # Sequence numbers ahead of the phone's (it sends 50 a
                # second): new indexes, so the replay check lets them
                # through to the authentication.
                ahead += 1
                seq = (last + 100 + ahead) & 0xFFFF
                ts = (last_ts + 160 * (100 + ahead)) & 0xFFFFFFFF
                if k == "forged":
                    p = struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + rnd.randbytes(plen)
                else:
                    c = rnd.choice(caps)
                    p = c[:2] + struct.pack("!HI", seq, ts) + c[8:]
            elif k == "replay":
                p = rnd.choice(caps)
            elif k == "tampered":
                b = bytearray(rnd.choice(caps))
                bit = rnd.randrange((len(b) - 12) * 8)
                b[12 + bit // 8] ^= 1 << (bit % 8)
                p = bytes(b)
            else:
                p = rnd.randbytes(rnd.randint(1, 400))
            try:
                if send(p, other if k == "unknown_peer" else None):
                    sent[k] += 1
                else:
                    failed += 1
            except OSError:
                failed += 1
            time.sleep(a.gap_ms / 1000.0)
    t2 = time.monotonic()
    track()
    print(json.dumps({
        "flow": {"src": "%s:%d" % (src, sport), "dst": "%s:%d" % (dst, dport),
                 "ssrc": "0x%08x" % ssrc, "pt": pt, "packet_bytes": plen + 12,
                 "flows_seen": len(flows), "phone_packets_seen": seen,
                 "seq_first": first_seq, "seq_last": last},
        "sent": sent, "send_failed": failed, "unknown_peer_port": other,
        "expect": {"garbage": "rx_malformed", "forged": "rx_auth_fail",
                   "resequenced": "rx_auth_fail", "replay": "rx_replay",
                   "tampered": "rx_replay", "unknown_peer": "rx_unknown"},
        "find_s": round(t_found - t0, 2), "start_s": round(t1 - t0, 2),
        "attack_s": round(t2 - t1, 2)}))
    return 0


def wav_data(path):
    """The samples of an 8 kHz mono WAV, 16-bit PCM or G.711 (the
    recorder's formats): (raw bytes, bytes per sample, decoder)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"RIFF" or d[8:12] != b"WAVE":
        raise SystemExit("%s: not a WAV" % path)
    i, fmt, data = 12, None, None
    while i + 8 <= len(d):
        cid, n = d[i:i + 4], struct.unpack("<I", d[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", d[i + 8:i + 24])
        elif cid == b"data":
            data = d[i + 8:i + 8 + n]
        i += 8 + n + (n & 1)
    if fmt is None or data is None or fmt[1] != 1:
        raise SystemExit("%s: no mono audio" % path)
    tag, bits = fmt[0], fmt[5]
    if tag == 1 and bits == 16:
        return data, 2, lambda fr: struct.unpack("<%dh" % (len(fr) // 2), fr)
    if tag == 7 and bits == 8:
        return data, 1, lambda fr: [ulaw(b) for b in fr]
    if tag == 6 and bits == 8:
        return data, 1, lambda fr: [alaw(b) for b in fr]
    raise SystemExit("%s: format %d/%d bits" % (path, tag, bits))


def ulaw(u):
    u = ~u & 0xFF
    s = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 7)
    return 0x84 - s if u & 0x80 else s - 0x84


def alaw(a):
    a ^= 0x55
    e, m = (a >> 4) & 7, a & 0x0F
    s = (m << 4) + 8 if e == 0 else ((m << 4) + 0x108) << (e - 1)
    return s if a & 0x80 else -s


def same_audio(a):
    """B's sounding 20 ms frames looked up bit-exact in A, in order.

    Both files are the phone's G.711 payloads as received, so each stretch
    of B's audio is in A at one offset. A stall of the sender of more than
    100 ms shifts what follows (it resumes with a jump in the timestamps,
    which the receiver fills with silence, not on a 20 ms boundary): the
    offset then changes once, and a frame that straddles the gap is in
    neither file whole. Each shift may thus cost two frames."""
    A, w, dec = wav_data(a.a)
    B, wb, decb = wav_data(a.b)
    if w != wb:
        raise SystemExit("%s and %s: different formats" % (a.a, a.b))
    F = 160 * w
    loud = []
    for i in range(0, len(B) - F + 1, F):
        v = decb(B[i:i + F])
        if sum(x * x for x in v) / len(v) > 300 * 300:
            loud.append(i)
    if not loud:
        print(json.dumps({"error": "no sound in %s" % a.b}))
        return 1
    found = []
    votes = {}
    for i in loud:
        fr, offs, p = B[i:i + F], set(), A.find(B[i:i + F])
        while p >= 0:
            if p % w == 0:
                offs.add(p - i)
            p = A.find(fr, p + 1)
        found.append(offs)
        for o in offs:
            votes[o] = votes.get(o, 0) + 1
    # Walk B's frames in order: each must be at the current offset; a
    # frame elsewhere counts as a shift only if the next frames are there
    # too (a lone frame found elsewhere is a repeated sound, not a shift).
    cur = max(votes, key=votes.get) if votes else None
    same, shifts, at = 0, 0, {}
    for k, offs in enumerate(found):
        if cur is not None and cur not in offs:
            nxt = found[k + 1:k + 4]
            cand = [o for o in offs if nxt and all(o in f for f in nxt)]
            if not cand:
                continue
            shifts += 1
            cur = min(cand, key=lambda o: abs(o - cur))
        if cur is None:
            continue
        same += 1
        at[cur] = at.get(cur, 0) + 1
    print(json.dumps({"loud_frames": len(loud), "identical": same, "shifts": shifts,
                      "at_one_offset": max(at.values()) if at else 0,
                      "ok": same > 0 and len(loud) - same <= 2 * shifts}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    at = sub.add_parser("attack")
    at.add_argument("--dst-ports", required=True, help="the voicemail server's UDP ports, comma-separated")
    at.add_argument("--count", type=int, default=40, help="datagrams of each kind")
    at.add_argument("--rounds", type=int, default=4)
    at.add_argument("--round-gap", type=float, default=0.5, help="seconds between rounds")
    at.add_argument("--gap-ms", type=float, default=2, help="between two datagrams")
    at.add_argument("--capture", type=int, default=50, help="real packets to capture first")
    at.add_argument("--find-s", type=float, default=5, help="at most this long to find the flow")
    at.add_argument("--start-in", type=float, default=0,
                    help="start sending this many seconds after starting (once the flow is found)")
    at.add_argument("--seed", type=int, default=None)
    sa = sub.add_parser("same-audio")
    sa.add_argument("a")
    sa.add_argument("b")
    a = ap.parse_args()
    if a.cmd == "attack":
        if os.geteuid() != 0:
            print(json.dumps({"error": "needs root (packet and raw sockets)"}))
            return 77
        return attack(a)
    return same_audio(a)


if __name__ == "__main__":
    sys.exit(main())
