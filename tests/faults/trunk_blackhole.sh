#!/usr/bin/env bash
# Fault: the trunk's far end goes silent. The call manager and the voicemail
# server run in two network namespaces joined by a veth pair; a blackhole
# route in the voicemail server's namespace drops everything it sends back.
# The OPTIONS pings then get no reply: the trunk goes to No Service when the
# ping's transaction times out (64*T1 = 32 s), a call to the pilot then fails
# fast with 503, and the trunk returns to Full Service once the route is gone.
# usage: trunk_blackhole.sh NGVOICE WAVCORR PROMPTS_DIR
NGV=$1
WAVCORR=$2
PROMPTS=$3
command -v ip >/dev/null || { echo "SKIP: no ip command (package iproute2)"; exit 77; }
NSC=ngvf-cm-$$
NSV=ngvf-vm-$$
# Addresses from 198.18.0.0/15 (RFC 2544, benchmarking), only ever on the
# veth pair inside these two namespaces.
CM_IP=198.18.0.1
VM_IP=198.18.0.2
CM_HOST=$CM_IP
CM_EXEC="ip netns exec $NSC"
VM_EXEC="ip netns exec $NSV"
. "$(dirname "$0")/lib.sh"
cd "$TMP"
if ! ip netns add "$NSC" 2>ns.err; then
	echo "SKIP: cannot create a network namespace: $(cat ns.err)"
	exit 77
fi
NETNS+=("$NSC")
ip netns add "$NSV"
NETNS+=("$NSV")
ip link add name ngvfc$$ type veth peer name ngvfv$$ || { echo "SKIP: no veth: cannot link the namespaces"; exit 77; }
ip link set ngvfc$$ netns "$NSC"
ip link set ngvfv$$ netns "$NSV"
ip -n "$NSC" addr add $CM_IP/30 dev ngvfc$$
ip -n "$NSV" addr add $VM_IP/30 dev ngvfv$$
for n in "$NSC" "$NSV"; do ip -n "$n" link set lo up; done
ip -n "$NSC" link set ngvfc$$ up
ip -n "$NSV" link set ngvfv$$ up
ok "namespaces $NSC ($CM_IP) and $NSV ($VM_IP) joined by a veth pair"

make_certs
write_configs
start_vm
start_cm
wait_full_service "$CM_LOG" 15 || { bad "trunk not in Full Service"; tail "$CM_LOG" "$VM_LOG" >&2; finish; }
ok "trunk CUCv11 to $VM_IP in Full Service (OPTIONS every $PING_IN s in service, $PING_OUT s out of service)"
pilot_answers "before the fault"

mark "$CM_LOG"
t0=$(now_ms)
ip -n "$NSV" route add blackhole $CM_IP/32
ok "blackhole route to $CM_IP in the voicemail server's namespace: its replies vanish"
# The next ping (<= PING_IN s) gets no reply within 32 s.
if wait_new "$CM_LOG" "trunk CUCv11: No Service" $((PING_IN + 40)); then
	ok "No Service $(($(now_ms) - t0)) ms after the blackhole: $(new_lines "$CM_LOG" | grep -o 'trunk CUCv11: No Service.*' | head -1)"
else
	bad "the trunk did not go to No Service"
	new_lines "$CM_LOG" >&2
fi
status_trunk "No Service"
pilot_fails_fast 2000 "while the far end is silent"
alive "$VM_PID" && ok "the voicemail server is still running (only its packets are lost)" || bad "the voicemail server died"

mark "$CM_LOG"
t1=$(now_ms)
ip -n "$NSV" route del blackhole $CM_IP/32
if wait_new "$CM_LOG" "trunk CUCv11: Full Service" $((PING_OUT + 20)); then
	ok "Full Service again $(($(now_ms) - t1)) ms after the route was removed: $(new_lines "$CM_LOG" | grep -o 'trunk CUCv11: Full Service.*' | head -1)"
else
	bad "the trunk did not return to Full Service"
	new_lines "$CM_LOG" >&2
fi
status_trunk "Full Service"
pilot_answers "after the far end came back"
finish
