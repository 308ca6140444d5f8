#!/usr/bin/env bash
# Interop: drives the real `ngvoice cert` end to end (self-signed and CA paths, trust stores, errors) and checks every result with the openssl command.
# usage: cert_cli.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"

# lacks WHAT FILE TEXT: TEXT is not in FILE.
lacks() {
	if grep -qF -- "$3" "$2"; then
		bad "$1: '$3' should not be there"
	else
		ok "$1"
	fi
}

mode() { stat -c %a "$1"; }

# The public key of a certificate and of a key file must be the same.
same_key() {
	local what=$1 cert=$2 key=$3
	shift 3
	if [ "$(openssl x509 -in "$cert" -noout -pubkey)" = \
		"$(openssl pkey -in "$key" -pubout "$@")" ]; then
		ok "$what"
	else
		bad "$what: $cert does not hold the key $key"
	fi
}

# Valid at least MIN and at most MAX days from now, by openssl -checkend.
valid_days() {
	local what=$1 cert=$2 min=$3 max=$4
	if openssl x509 -in "$cert" -noout -checkend $((min * 86400)) >/dev/null &&
		! openssl x509 -in "$cert" -noout -checkend $((max * 86400)) >/dev/null; then
		ok "$what"
	else
		bad "$what: not valid for $min to $max days: $(openssl x509 -in "$cert" -noout -enddate)"
	fi
}

# tls WHAT SERVER-ARGS -- CLIENT-ARGS: a TLS 1.2 handshake between openssl
# s_server and s_client, the server requiring a client certificate; the
# client's output goes to $TMP/client. Returns the client's verify result.
tls() {
	local what=$1 port sargs=() cargs=() i
	shift
	while [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	cargs=("$@")
	port=$(free_port)
	# A fresh log: the last run's ACCEPT must not count for this server.
	: >"$TMP/server"
	openssl s_server -www -accept "127.0.0.1:$port" -naccept 1 -tls1_2 -Verify 1 \
		-verify_return_error "${sargs[@]}" >"$TMP/server" 2>&1 &
	local spid=$!
	for i in $(seq 1 50); do
		grep -q '^ACCEPT' "$TMP/server" 2>/dev/null && break
		sleep 0.1
	done
	echo Q | timeout 20 openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
		-verify_return_error "${cargs[@]}" >"$TMP/client" 2>&1 || true
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	grep -q 'Verify return code: 0 (ok)' "$TMP/client" &&
		grep -q 'Cipher is ECDHE' "$TMP/client"
}

CM=$TMP/cucm # the call manager's certificate directory
VM=$TMP/cuc  # the voicemail server's

echo "== help"
run "ngvoice --help lists cert" "$NGV" --help
has "ngvoice --help lists cert" "$TMP/out" "cert "
for sub in "" generate csr ca "ca init" "ca sign" import trust "trust add" \
	"trust list" "trust remove" "trust bundle" show; do
	# shellcheck disable=SC2086
	run "cert $sub --help" "$NGV" cert $sub --help
	has "cert $sub --help is a usage text" "$TMP/out" "usage: ngvoice cert"
done
fails "cert without a command" 2 "usage: ngvoice cert" "$NGV" cert
fails "cert: an unknown command" 2 "unknown command 'frob'" "$NGV" cert frob

echo "== self-signed path (the guide's default)"
run "generate CallManager" "$NGV" cert generate --role callmanager \
	--cn cucm.lab --san cucm.lab --san 127.0.0.1 --out "$CM"
has "generate prints the certificate" "$TMP/out" "CallManager: wrote" \
	"subject:       CN=cucm.lab" "key:           RSA 2048 bits"
run "generate CallManager-ECDSA" "$NGV" cert generate \
	--role callmanager-ecdsa --cn cucm-EC.lab --san cucm.lab --out "$CM"
run "generate ITLRecovery" "$NGV" cert generate --role itlrecovery \
	--cn ITLRECOVERY_cucm.lab --out "$CM"
run "generate tomcat" "$NGV" cert generate --role tomcat --cn cuc.lab \
	--san cuc.lab --out "$VM"
run "generate tomcat-ECDSA" "$NGV" cert generate --role tomcat-ecdsa \
	--cn cuc-EC.lab --san cuc.lab --key ec:p384 --out "$VM"
for f in "$CM/CallManager" "$CM/CallManager-ECDSA" "$CM/ITLRecovery" \
	"$VM/tomcat" "$VM/tomcat-ECDSA"; do
	n=$(basename "$f")
	[ "$(mode "$f.key")" = 600 ] && ok "$n.key mode 0600" ||
		bad "$n.key mode $(mode "$f.key")"
	same_key "$n.pem holds $n.key" "$f.pem" "$f.key"
done
[ "$(mode "$CM")" = 700 ] && ok "identity directory mode 0700" ||
	bad "identity directory mode $(mode "$CM")"
run "generate into a directory whose parents are missing" "$NGV" cert generate \
	--role tomcat --cn deep.lab --out "$TMP/etc/ngvoice/deep"
[ -f "$TMP/etc/ngvoice/deep/tomcat.pem" ] && ok "parents created" || bad "no deep/tomcat.pem"

openssl x509 -in "$CM/CallManager.pem" -noout -text >"$TMP/t"
has "CallManager: RSA 2048, TLS server+client, CA:FALSE, SANs" "$TMP/t" \
	"Public-Key: (2048 bit)" "Subject: CN = cucm.lab" \
	"Digital Signature, Key Encipherment" \
	"TLS Web Server Authentication, TLS Web Client Authentication" \
	"CA:FALSE" "DNS:cucm.lab, IP Address:127.0.0.1" \
	"sha256WithRSAEncryption"
lacks "CallManager: no keyCertSign" "$TMP/t" "Certificate Sign"
valid_days "CallManager valid 5 years" "$CM/CallManager.pem" 1824 1826

openssl x509 -in "$CM/CallManager-ECDSA.pem" -noout -text >"$TMP/t"
has "CallManager-ECDSA: P-256, digitalSignature, TLS server+client" "$TMP/t" \
	"ASN1 OID: prime256v1" "Subject: CN = cucm-EC.lab" \
	"TLS Web Server Authentication, TLS Web Client Authentication" \
	"CA:FALSE" "DNS:cucm.lab" "ecdsa-with-SHA256"
lacks "CallManager-ECDSA: no keyEncipherment" "$TMP/t" "Key Encipherment"

openssl x509 -in "$VM/tomcat-ECDSA.pem" -noout -text >"$TMP/t"
has "tomcat-ECDSA --key ec:p384: P-384 signed with SHA-384" "$TMP/t" \
	"ASN1 OID: secp384r1" "ecdsa-with-SHA384"

openssl x509 -in "$CM/ITLRecovery.pem" -noout -text >"$TMP/t"
has "ITLRecovery: RSA, digitalSignature" "$TMP/t" "Public-Key: (2048 bit)" \
	"Digital Signature" "CA:FALSE"
lacks "ITLRecovery: no extended key usage" "$TMP/t" "Extended Key Usage"
valid_days "ITLRecovery valid 20 years" "$CM/ITLRecovery.pem" 7299 7301

# A self-signed identity is its own trust anchor, for both TLS roles.
for f in "$CM/CallManager.pem" "$CM/CallManager-ECDSA.pem" "$VM/tomcat.pem"; do
	for p in sslserver sslclient; do
		run "openssl verify -purpose $p trusts $(basename "$f") itself" \
			openssl verify -purpose "$p" -CAfile "$f" "$f"
	done
done
fails "openssl verify: another self-signed certificate is not trusted" 2 \
	"self-signed certificate" \
	openssl verify -CAfile "$CM/CallManager.pem" "$VM/tomcat.pem"

echo "== trust stores"
run "trust add tomcat, tomcat-ECDSA to the call manager's callmanager-trust" \
	"$NGV" cert trust add --store callmanager-trust --dir "$CM" \
	"$VM/tomcat.pem" "$VM/tomcat-ECDSA.pem"
has "trust add names the entries" "$TMP/out" \
	"added callmanager-trust/cuc.lab.pem: CN=cuc.lab (self-signed)" \
	"added callmanager-trust/cuc-EC.lab.pem: CN=cuc-EC.lab (self-signed)"
run "trust add the same again" "$NGV" cert trust add --store callmanager-trust \
	--dir "$CM" "$VM/tomcat.pem"
has "trust add: already there" "$TMP/out" "already in callmanager-trust/cuc.lab.pem"
run "trust add CallManager(-ECDSA) to the voicemail's callmanager-trust" \
	"$NGV" cert trust add --store callmanager-trust --dir "$VM" \
	"$CM/CallManager.pem" "$CM/CallManager-ECDSA.pem"
run "trust add with --name to tomcat-trust" "$NGV" cert trust add \
	--store tomcat-trust --dir "$VM" --name cucm-tomcat "$CM/CallManager.pem"
run "trust list" "$NGV" cert trust list --dir "$CM"
has "trust list shows both stores and entries" "$TMP/out" \
	"callmanager-trust ($CM/callmanager-trust): 2 certificates" \
	"cuc.lab " "cuc-EC.lab " "tomcat-trust ($CM/tomcat-trust): 0 certificates"
run "trust bundle" "$NGV" cert trust bundle --store callmanager-trust --dir "$CM"
has "trust bundle writes DIR/STORE.pem" "$TMP/out" \
	"wrote $CM/callmanager-trust.pem: 2 certificates"
[ "$(grep -c 'BEGIN CERTIFICATE' "$CM/callmanager-trust.pem")" = 2 ] &&
	ok "bundle holds 2 certificates" || bad "bundle count"
run "bundle of the voicemail's store" "$NGV" cert trust bundle \
	--store callmanager-trust --dir "$VM" --out "$TMP/vm-trust.pem"
run "openssl verify tomcat against the bundle" \
	openssl verify -CAfile "$CM/callmanager-trust.pem" "$VM/tomcat.pem"
run "openssl verify tomcat-ECDSA against the bundle" \
	openssl verify -CAfile "$CM/callmanager-trust.pem" "$VM/tomcat-ECDSA.pem"
fails "openssl verify: CallManager is not in its own store" 2 "error" \
	openssl verify -CAfile "$CM/callmanager-trust.pem" "$CM/CallManager.pem"

# Mutual TLS 1.2 with the generated identities and bundles, as the guide's
# trunk does: RSA suite, then ECDSA suite (the EC certificate follows).
if tls "mutual TLS, RSA suite" \
	-cert "$CM/CallManager.pem" -key "$CM/CallManager.key" \
	-dcert "$CM/CallManager-ECDSA.pem" -dkey "$CM/CallManager-ECDSA.key" \
	-CAfile "$CM/callmanager-trust.pem" -- \
	-CAfile "$TMP/vm-trust.pem" -cert "$VM/tomcat.pem" -key "$VM/tomcat.key" \
	-cipher ECDHE-RSA-AES256-GCM-SHA384; then
	has "RSA suite: CallManager.pem shown" "$TMP/client" "CN = cucm.lab"
else
	bad "mutual TLS, RSA suite:"
	sed 's/^/     /' "$TMP/client" "$TMP/server" >&2
fi
if tls "mutual TLS, ECDSA suite" \
	-cert "$CM/CallManager.pem" -key "$CM/CallManager.key" \
	-dcert "$CM/CallManager-ECDSA.pem" -dkey "$CM/CallManager-ECDSA.key" \
	-CAfile "$CM/callmanager-trust.pem" -- \
	-CAfile "$TMP/vm-trust.pem" -cert "$VM/tomcat-ECDSA.pem" \
	-key "$VM/tomcat-ECDSA.key" -cipher ECDHE-ECDSA-AES256-GCM-SHA384; then
	has "ECDSA suite: CallManager-ECDSA.pem shown" "$TMP/client" "CN = cucm-EC.lab"
else
	bad "mutual TLS, ECDSA suite:"
	sed 's/^/     /' "$TMP/client" "$TMP/server" >&2
fi
if tls "TLS refused without trust" \
	-cert "$CM/CallManager.pem" -key "$CM/CallManager.key" \
	-CAfile "$CM/callmanager-trust.pem" -- \
	-CAfile "$VM/tomcat.pem" -cert "$VM/tomcat.pem" -key "$VM/tomcat.key"; then
	bad "a client that does not trust CallManager accepted it"
else
	ok "a client that does not trust CallManager refuses it"
fi

run "trust remove" "$NGV" cert trust remove --store callmanager-trust \
	--dir "$CM" cuc-EC.lab
[ ! -e "$CM/callmanager-trust/cuc-EC.lab.pem" ] && ok "entry removed" ||
	bad "entry still there"
fails "trust remove: unknown name" 1 "no certificate named nope in the store" \
	"$NGV" cert trust remove --store callmanager-trust --dir "$CM" nope
fails "trust remove: no paths" 1 "not a trust store entry" \
	"$NGV" cert trust remove --store callmanager-trust --dir "$CM" ../../x
fails "trust: unknown store" 1 \
	"unknown trust store 'phone-trust': use one of callmanager-trust, tomcat-trust" \
	"$NGV" cert trust add --store phone-trust --dir "$CM" "$VM/tomcat.pem"
fails "trust list --out is a usage error" 2 "--out is for 'trust bundle'" \
	"$NGV" cert trust list --dir "$CM" --out x
fails "trust bundle: empty store" 1 "the trust store is empty" \
	"$NGV" cert trust bundle --store tomcat-trust --dir "$CM"
fails "trust add: a key is no certificate" 1 "not a PEM certificate (it holds a private key)" \
	"$NGV" cert trust add --store tomcat-trust --dir "$CM" "$VM/tomcat.key"

echo "== show"
run "show CallManager" "$NGV" cert show "$CM/CallManager.pem"
fp256=$(openssl x509 -in "$CM/CallManager.pem" -noout -fingerprint -sha256 | cut -d= -f2)
fp1=$(openssl x509 -in "$CM/CallManager.pem" -noout -fingerprint -sha1 | cut -d= -f2)
serial=$(openssl x509 -in "$CM/CallManager.pem" -noout -serial | cut -d= -f2)
end=$(date -u -d "$(openssl x509 -in "$CM/CallManager.pem" -noout -enddate | cut -d= -f2)" \
	'+%Y-%m-%d %H:%M:%S UTC')
start=$(date -u -d "$(openssl x509 -in "$CM/CallManager.pem" -noout -startdate | cut -d= -f2)" \
	'+%Y-%m-%d %H:%M:%S UTC')
has "show: the fields agree with openssl" "$TMP/out" \
	"subject:       CN=cucm.lab" "SAN:           DNS:cucm.lab, IP:127.0.0.1" \
	"issuer:        CN=cucm.lab (self-signed)" "serial:        $serial" \
	"key:           RSA 2048 bits" "not before:    $start" \
	"not after:     $end (18" "SHA-256:       $fp256" "SHA-1:         $fp1" \
	"key usage:     digitalSignature, keyEncipherment (critical)" \
	"ext key usage: serverAuth, clientAuth" "CA:            no"
run "show --role --dir" "$NGV" cert show --role callmanager-ecdsa --dir "$CM"
has "show --role: EC P-256" "$TMP/out" "key:           EC P-256 (prime256v1)"
run "show --trust a store directory" "$NGV" cert show "$VM/tomcat.pem" \
	--trust "$CM/callmanager-trust"
has "show --trust: verifies" "$TMP/out" "verify:        OK against"
fails "show --trust: self-signed not trusted" 1 \
	"self-signed \"CN=cucm.lab\" is not trusted" \
	"$NGV" cert show "$CM/CallManager.pem" --trust "$CM/callmanager-trust.pem"
has "show --trust: the verdict on stdout too" "$TMP/out" "verify:        FAILED"

echo "== CA path (third-party CA signing)"
CA=$TMP/ca
printf 'lab CA pass\n' >"$TMP/pw"
run "ca init --intermediate, encrypted keys" "$NGV" cert ca init --out "$CA" \
	--intermediate --password-file "$TMP/pw"
[ "$(mode "$CA/ca.key")" = 600 ] && [ "$(mode "$CA/intermediate.key")" = 600 ] &&
	ok "CA keys mode 0600" || bad "CA key modes"
has "CA key is encrypted" "$CA/ca.key" "BEGIN ENCRYPTED PRIVATE KEY"
same_key "ca.pem holds ca.key (password)" "$CA/ca.pem" "$CA/ca.key" \
	-passin "file:$TMP/pw"
openssl x509 -in "$CA/ca.pem" -noout -text >"$TMP/t"
has "root: CA, P-384, keyCertSign" "$TMP/t" "CA:TRUE" "ASN1 OID: secp384r1" \
	"Certificate Sign, CRL Sign" "Subject: CN = ngvoice lab root CA"
openssl x509 -in "$CA/intermediate.pem" -noout -text >"$TMP/t"
has "intermediate: CA pathlen 0, issued by the root" "$TMP/t" \
	"CA:TRUE, pathlen:0" "Issuer: CN = ngvoice lab root CA"
run "openssl verify the intermediate against the root" \
	openssl verify -CAfile "$CA/ca.pem" "$CA/intermediate.pem"
fails "ca init: refuses to replace a CA" 1 "a CA is already there" \
	"$NGV" cert ca init --out "$CA"

CM2=$TMP/cucm2
run "csr CallManager" "$NGV" cert csr --role callmanager --cn cucm.lab \
	--san cucm.lab --san 10.0.0.5 --out "$CM2"
run "csr CallManager-ECDSA" "$NGV" cert csr --role callmanager-ecdsa \
	--cn cucm-EC.lab --san cucm.lab --out "$CM2"
[ "$(mode "$CM2/CallManager.key")" = 600 ] && ok "csr key mode 0600" ||
	bad "csr key mode"
run "openssl req -verify CallManager.csr" openssl req -in "$CM2/CallManager.csr" \
	-noout -verify
openssl req -in "$CM2/CallManager.csr" -noout -text >"$TMP/t"
has "CSR: subject, SANs, EKU requested" "$TMP/t" "Subject: CN = cucm.lab" \
	"DNS:cucm.lab, IP Address:10.0.0.5" "TLS Web Server Authentication"
fails "csr: refuses to replace the key" 1 "exists; --force replaces the key" \
	"$NGV" cert csr --role callmanager --cn cucm.lab --out "$CM2"

fails "ca sign: encrypted CA key needs the password" 1 \
	"intermediate.key: the key is encrypted and no password was given (give it with --password-file FILE)" \
	"$NGV" cert ca sign --ca "$CA" --csr "$CM2/CallManager.csr" --out "$TMP/cm-signed.pem"
printf 'wrong\n' >"$TMP/pw-wrong"
fails "ca sign: wrong password" 1 "wrong password" \
	"$NGV" cert ca sign --ca "$CA" --csr "$CM2/CallManager.csr" \
	--out "$TMP/cm-signed.pem" --password-file "$TMP/pw-wrong"
run "ca sign CallManager.csr" "$NGV" cert ca sign --ca "$CA" \
	--csr "$CM2/CallManager.csr" --out "$TMP/cm-signed.pem" --password-file "$TMP/pw"
run "ca sign CallManager-ECDSA.csr" "$NGV" cert ca sign --ca "$CA" \
	--csr "$CM2/CallManager-ECDSA.csr" --out "$TMP/cmec-signed.pem" \
	--password-file "$TMP/pw" --days 90
[ "$(grep -c 'BEGIN CERTIFICATE' "$TMP/cm-signed.pem")" = 2 ] &&
	ok "signed file: leaf then intermediate" || bad "signed file count"
openssl x509 -in "$TMP/cm-signed.pem" -noout -text >"$TMP/t"
has "signed leaf: SANs copied, EKU, CA:FALSE, issued by the intermediate" \
	"$TMP/t" "Subject: CN = cucm.lab" "DNS:cucm.lab, IP Address:10.0.0.5" \
	"TLS Web Server Authentication, TLS Web Client Authentication" \
	"CA:FALSE" "Issuer: CN = ngvoice lab intermediate CA" \
	"Digital Signature, Key Encipherment"
valid_days "signed leaf valid 5 years" "$TMP/cm-signed.pem" 1823 1826
valid_days "signed with --days 90" "$TMP/cmec-signed.pem" 89 91
run "openssl verify leaf -> intermediate -> root" openssl verify -purpose sslserver \
	-CAfile "$CA/ca.pem" -untrusted "$CA/intermediate.pem" "$TMP/cm-signed.pem"
fails "openssl verify: not without the intermediate" 2 \
	"unable to get local issuer certificate" \
	openssl verify -CAfile "$CA/ca.pem" "$TMP/cm-signed.pem"

run "import CallManager" "$NGV" cert import --role callmanager \
	--cert "$TMP/cm-signed.pem" --dir "$CM2"
run "import CallManager-ECDSA" "$NGV" cert import --role callmanager-ecdsa \
	--cert "$TMP/cmec-signed.pem" --dir "$CM2"
same_key "imported CallManager.pem holds the key" "$CM2/CallManager.pem" \
	"$CM2/CallManager.key"
run "show the imported identity --trust the root" "$NGV" cert show \
	--role callmanager --dir "$CM2" --trust "$CA/ca.pem"
has "show: chain verifies" "$TMP/out" "certificate 1 of 2" \
	"verify:        OK against $CA/ca.pem: CN=cucm.lab > CN=ngvoice lab intermediate CA > CN=ngvoice lab root CA"
fails "show --trust another root: unknown issuer" 1 \
	"unknown issuer \"CN=ngvoice lab root CA\"" \
	"$NGV" cert show "$CM2/CallManager.pem" --trust "$VM/tomcat.pem"

# The peer trusts only the root (the guide: upload root + intermediate).
VM2=$TMP/cuc2
run "trust add the CA root and intermediate" "$NGV" cert trust add \
	--store callmanager-trust --dir "$VM2" "$CA/ca.pem" "$CA/intermediate.pem"
run "bundle" "$NGV" cert trust bundle --store callmanager-trust --dir "$VM2"
run "openssl verify the imported chain against the bundle" openssl verify \
	-CAfile "$VM2/callmanager-trust.pem" "$CM2/CallManager.pem"
run "generate the peer's tomcat" "$NGV" cert generate --role tomcat \
	--cn cuc.lab --out "$VM2"
if tls "mutual TLS with the CA-signed identity" \
	-cert "$CM2/CallManager.pem" -key "$CM2/CallManager.key" \
	-cert_chain "$CA/intermediate.pem" -CAfile "$VM2/tomcat.pem" -- \
	-CAfile "$CA/ca.pem" -cert "$VM2/tomcat.pem" -key "$VM2/tomcat.key"; then
	ok "mutual TLS: the CA-signed CallManager verifies against the root"
else
	bad "mutual TLS with the CA-signed identity:"
	sed 's/^/     /' "$TMP/client" "$TMP/server" >&2
fi

echo "== import errors, with a third-party CA (openssl ca)"
OCA=$TMP/oca
mkdir -p "$OCA/new"
: >"$OCA/index.txt"
echo 1000 >"$OCA/serial"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$OCA/key.pem" -out "$OCA/ca.pem" -subj "/CN=OpenSSL Test CA" \
	-days 30 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
cat >"$OCA/ca.cnf" <<EOF
[ca]
default_ca = lab
[lab]
database = $OCA/index.txt
new_certs_dir = $OCA/new
serial = $OCA/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
EOF
CM3=$TMP/cucm3
run "csr tomcat for the openssl CA" "$NGV" cert csr --role tomcat --cn cuc.lab \
	--san cuc.lab --out "$CM3"
osign() { # OUT openssl-ca-options...
	local out=$1
	shift
	openssl ca -batch -notext -config "$OCA/ca.cnf" -extensions leaf \
		-cert "$OCA/ca.pem" -keyfile "$OCA/key.pem" \
		-in "$CM3/tomcat.csr" -out "$out" "$@" >"$TMP/oca.log" 2>&1 ||
		{
			bad "openssl ca $*"
			cat "$TMP/oca.log" >&2
		}
}
osign "$TMP/o-good.pem" -days 20
osign "$TMP/o-expired.pem" -startdate 20200101000000Z -enddate 20200201000000Z
osign "$TMP/o-future.pem" -startdate 20400101000000Z -enddate 20410101000000Z
fails "import: expired" 1 "CN=cuc.lab expired on 2020-02-01 00:00:00 UTC" \
	"$NGV" cert import --role tomcat --cert "$TMP/o-expired.pem" --dir "$CM3"
fails "import: not yet valid" 1 "is not yet valid: it starts on 2040-01-01" \
	"$NGV" cert import --role tomcat --cert "$TMP/o-future.pem" --dir "$CM3"
fails "import: a CA certificate" 1 "is a CA certificate, not an identity" \
	"$NGV" cert import --role tomcat --cert "$OCA/ca.pem" --dir "$CM3"
fails "import: another key's certificate" 1 \
	"does not match the key $CM3/tomcat.key" \
	"$NGV" cert import --role tomcat --cert "$VM/tomcat.pem" --dir "$CM3"
fails "import: the wrong role" 1 "CallManager.key: cannot read" \
	"$NGV" cert import --role callmanager --cert "$TMP/o-good.pem" --dir "$CM3"
echo "not a certificate" >"$TMP/junk.pem"
fails "import: not PEM" 1 "$TMP/junk.pem: not a PEM certificate" \
	"$NGV" cert import --role tomcat --cert "$TMP/junk.pem" --dir "$CM3"
fails "import: no such file" 1 "$TMP/none.pem: cannot read: No such file or directory" \
	"$NGV" cert import --role tomcat --cert "$TMP/none.pem" --dir "$CM3"
[ ! -e "$CM3/tomcat.pem" ] && ok "refused imports wrote nothing" ||
	bad "a refused import wrote $CM3/tomcat.pem"
# an encrypted identity key (openssl pkey) needs --password-file
cp "$CM3/tomcat.key" "$TMP/tomcat.key.clear"
openssl pkey -in "$TMP/tomcat.key.clear" -aes256 -passout pass:idpass \
	-out "$CM3/tomcat.key"
fails "import: encrypted key without password" 1 \
	"the key is encrypted and no password was given (give it with --password-file FILE)" \
	"$NGV" cert import --role tomcat --cert "$TMP/o-good.pem" --dir "$CM3"
printf 'idpass' >"$TMP/idpw"
run "import the openssl-CA-signed certificate (encrypted key, password file)" \
	"$NGV" cert import --role tomcat --cert "$TMP/o-good.pem" --dir "$CM3" \
	--password-file "$TMP/idpw"
run "openssl verify the import against the openssl CA" \
	openssl verify -CAfile "$OCA/ca.pem" "$CM3/tomcat.pem"
run "show verifies it too" "$NGV" cert show "$CM3/tomcat.pem" --trust "$OCA/ca.pem"

echo "== generate errors"
fails "unknown role lists the valid ones" 1 \
	"unknown role 'capf': use one of callmanager, callmanager-ecdsa, tomcat, tomcat-ecdsa, itlrecovery" \
	"$NGV" cert generate --role capf --cn x --out "$TMP/e"
fails "unsupported key size" 1 "unsupported key 'rsa:1024'" \
	"$NGV" cert generate --role callmanager --cn x --key rsa:1024 --out "$TMP/e"
fails "unsupported curve" 1 "unsupported key 'ec:p224'" \
	"$NGV" cert generate --role tomcat-ecdsa --cn x --key ec:p224 --out "$TMP/e"
fails "EC key for an RSA role" 1 "role CallManager takes an RSA key" \
	"$NGV" cert generate --role callmanager --cn x --key ec:p256 --out "$TMP/e"
fails "RSA key for an EC role" 1 "role tomcat-ECDSA takes an EC key" \
	"$NGV" cert generate --role tomcat-ecdsa --cn x --key rsa:2048 --out "$TMP/e"
fails "wildcard CN" 1 "wildcard names are not supported" \
	"$NGV" cert generate --role tomcat --cn '*.lab' --out "$TMP/e"
fails "wildcard SAN" 1 "wildcard names are not supported" \
	"$NGV" cert generate --role tomcat --cn cuc.lab --san '*.lab' --out "$TMP/e"
fails "bad SAN" 1 "not a valid host name" \
	"$NGV" cert generate --role tomcat --cn cuc.lab --san 'a b' --out "$TMP/e"
[ ! -e "$TMP/e" ] && ok "refused generates created nothing" || bad "$TMP/e exists"
fails "existing identity needs --force" 1 "the CallManager identity exists; --force replaces it" \
	"$NGV" cert generate --role callmanager --cn cucm.lab --out "$CM"
old=$(openssl x509 -in "$CM/CallManager.pem" -noout -fingerprint -sha256)
run "--force replaces it" "$NGV" cert generate --role callmanager --cn cucm.lab \
	--days 30 --out "$CM" --force
[ "$old" != "$(openssl x509 -in "$CM/CallManager.pem" -noout -fingerprint -sha256)" ] &&
	ok "--force made a new certificate" || bad "--force kept the old one"
valid_days "--days 30" "$CM/CallManager.pem" 29 31
fails "missing --cn is a usage error" 2 "--role, --cn and --out are needed" \
	"$NGV" cert generate --role tomcat --out "$TMP/e"
fails "an unknown option is a usage error" 2 "Run 'ngvoice cert generate --help'" \
	"$NGV" cert generate --role tomcat --cn x --out "$TMP/e" --bogus
fails "--days must be a number" 2 "--days x: give a number of days" \
	"$NGV" cert generate --role tomcat --cn x --out "$TMP/e" --days x
fails "show: no such file" 1 "$TMP/none.pem: cannot read" \
	"$NGV" cert show "$TMP/none.pem"
fails "show: a key is no certificate" 1 "not a PEM certificate (it holds a private key)" \
	"$NGV" cert show "$CM/CallManager.key"
fails "show: a CSR is no certificate" 1 "it holds a certificate request" \
	"$NGV" cert show "$CM2/CallManager.csr"
if [ "$(id -u)" != 0 ]; then
	cp "$CM/CallManager.pem" "$TMP/noread.pem"
	chmod 000 "$TMP/noread.pem"
	fails "show: unreadable file" 1 "noread.pem: cannot read: Permission denied" \
		"$NGV" cert show "$TMP/noread.pem"
fi

echo
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
