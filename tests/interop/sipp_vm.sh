#!/usr/bin/env bash
# Interop: sipp calls `ngvoice voicemail` directly as its SIP server would
# (a 5060/TCP port group without Secure RTP): a re-INVITE changes the media
# and is answered; then the port limit: with one port, a second concurrent
# call is refused with 486 and the reason, and status shows all ports busy.
# usage: sipp_vm.sh NGVOICE PROMPTS_DIR
NGV=$1
PROMPTS=$2
. "$(dirname "$0")/lib.sh"
need_sipp
SCEN="$(cd "$(dirname "$0")" && pwd)/sipp/vm_reinvite.xml"
cd "$TMP"
VMSIP=$(free_port)
cat >vm.conf <<CONF
[general]
host_name = cuc.ngvoice.localhost
sip_port = $VMSIP
sip_tls_port = $(free_port)
storage_path = $TMP/store
prompts_dir = $PROMPTS
control_socket = $TMP/vm.sock
[port-group "PhoneSystem-1"]
sip_security_profile = 5060/TCP
ip_address_or_host_name = 127.0.0.1
port = 5060
[ports "PhoneSystem-1"]
number_of_ports = 1
CONF
"$NGV" voicemail --config vm.conf >vm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 50); do
	grep -q "voicemail cuc.ngvoice.localhost: SIP" vm.log && break
	sleep 0.1
done

# 1. re-INVITE: 3 calls one after the other
timeout 60 sipp -sf "$SCEN" -s 2000 "127.0.0.1:$VMSIP" -i 127.0.0.1 -p "$(free_port)" \
	-t t1 -m 3 -l 1 -nostdin -timeout 40s -timeout_error >sipp1.out 2>&1 || {
	echo "FAIL sipp re-INVITE scenario" >&2
	tail -30 sipp1.out vm.log >&2
	exit 1
}
n=$(grep -c "re-INVITE: new keys" vm.log || true)
[ "$n" = 3 ] || { echo "FAIL expected 3 re-INVITEs answered, saw $n" >&2; cat vm.log >&2; exit 1; }
ok "3 calls changed their media with a re-INVITE, each answered (PCMA, new port)"

# 2. the port limit: one long call holds the only port
cat >hold.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hold a port">
  <send retrans="500"><![CDATA[
      INVITE sip:2000@[remote_ip]:[remote_port];transport=tcp SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:2000@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:1001@[local_ip]:[local_port];transport=tcp>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Content-Length: 0
    ]]></send>
  <pause milliseconds="4000"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
</scenario>
XML
timeout 30 sipp -sf hold.xml "127.0.0.1:$VMSIP" -i 127.0.0.1 -p "$(free_port)" \
	-t t1 -m 1 -nostdin >sipp2.out 2>&1 &
HOLD=$!
PIDS+=($HOLD)
for i in $(seq 1 50); do
	grep -q "call 4 (Call-ID" vm.log && break
	sleep 0.1
done
"$NGV" status portgroups --config vm.conf >st.txt
grep -q "1 of 1 ports busy (all busy)" st.txt || { echo "FAIL status portgroups" >&2; cat st.txt >&2; exit 1; }
ok "status: $(grep -o 'Port group PhoneSystem-1: .*' st.txt)"
timeout 20 sipp -sn uac "127.0.0.1:$VMSIP" -i 127.0.0.1 -p "$(free_port)" -t t1 -m 1 \
	-nostdin >sipp3.out 2>&1 || true
grep -q "486 Busy Here: all 1 voicemail ports of port group PhoneSystem-1 are busy" vm.log || {
	echo "FAIL the second call was not refused with the reason" >&2
	tail -20 vm.log >&2
	exit 1
}
ok "a second call while the only port is busy: $(grep -o '486 Busy Here: .*' vm.log | head -1)"
wait "$HOLD" || { echo "FAIL the call holding the port did not finish cleanly" >&2; tail -20 sipp2.out >&2; exit 1; }
ok "the first call went on and ended normally"
