#!/usr/bin/env bash
# Interop: ngv-testua calls sipp's built-in uas scenario (INVITE, 180, 200, ACK, BYE, 200) over udp or tcp.
# usage: sipp_uas.sh TESTUA udp|tcp
TESTUA=$1
PROTO=$2
. "$(dirname "$0")/lib.sh"
need_sipp

calls=30
port=$(free_port)
if [ "$PROTO" = tcp ]; then tflag=t1; else tflag=u1; fi
timeout 60 sipp -sn uas -i 127.0.0.1 -p "$port" -t "$tflag" -m "$calls" \
	-nostdin -timeout 40s >"$TMP/sipp.out" 2>&1 &
SIPP=$!
PIDS+=($SIPP)
sleep 0.5
uri="sip:service@127.0.0.1:$port"
[ "$PROTO" = tcp ] && uri="$uri;transport=tcp"
timeout 60 "$TESTUA" --udp 127.0.0.1:0 --tcp 127.0.0.1:0 --proto "$PROTO" \
	--call "$uri" --calls "$calls" --parallel 5 --hold 50 --linger 4500 \
	>"$TMP/uac.out" 2>"$TMP/uac.err" || {
	echo "ngv-testua as UAC failed:" >&2
	cat "$TMP/uac.out" "$TMP/uac.err" >&2
	tail -30 "$TMP/sipp.out" >&2
	exit 1
}
grep -q "calls ok=$calls failed=0" "$TMP/uac.out"
# sipp exits 0 once all its calls succeeded.
wait "$SIPP" || {
	echo "sipp uas reported failures:" >&2
	tail -40 "$TMP/sipp.out" >&2
	exit 1
}
PIDS=()
echo "sipp uas over $PROTO: $calls calls completed"
