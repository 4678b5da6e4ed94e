# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Test PKI for the guest tests, made with the OpenSSL CLI only, and the
# two digests svrcert keys on, computed independently of the module:
#
#   pki_init DIR                       CA (P-256, CA:TRUE critical) in DIR
#   pki_cert NAME START END [SERIAL]   leaf DIR/NAME.{pem,der}; START/END as
#                                      "YYYYmmddHHMMSSZ" or "+SECONDS"/"-SECONDS"
#                                      relative to now; SERIAL hex (default:
#                                      the CA's next serial)
#   pki_revkey CERT.pem                SHA-256(canonical issuer Name DER ||
#                                      DER serial), hex: the serial from
#                                      `openssl asn1parse` offsets, the Name
#                                      rebuilt by `asn1parse -genconf`
#   pki_fingerprint CERT.pem           SHA-256(certificate DER), hex
#
# Everything is written below the directory given to pki_init ($PKI).

PKI=

# "+N"/"-N" seconds from now, or an OpenSSL GeneralizedTime as is.
pki_time() {
	local now
	now=$(date +%s)
	case $1 in
	[+-]*) date -u -d "@$((now $1))" +%Y%m%d%H%M%SZ ;;
	*) echo "$1" ;;
	esac
}

pki_init() {
	PKI=$1
	mkdir -p "$PKI/newcerts"
	: >"$PKI/index.txt"
	echo 1000 >"$PKI/serial"
	cat >"$PKI/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $PKI
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
x509_extensions = leaf_ext
[ policy_any ]
commonName = supplied
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
[ req ]
distinguished_name = dn
[ dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 3650 \
		-subj "/O=svrcert test/CN=svrcert guest test CA" \
		-config "$PKI/ca.cnf" -extensions ca_ext 2>/dev/null || return 1
	# One leaf key serves every test certificate: only the certificates
	# (validity, serial) differ between tests.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$PKI/leaf.key" 2>/dev/null
}

pki_cert() {
	local name=$1 start end serial=${4:-}
	start=$(pki_time "$2")
	end=$(pki_time "$3")
	[ -z "$serial" ] || echo "$serial" >"$PKI/serial"
	openssl req -new -key "$PKI/leaf.key" -subj "/O=svrcert test/CN=$name" \
		-out "$PKI/$name.csr" 2>/dev/null &&
	openssl ca -batch -notext -config "$PKI/ca.cnf" -in "$PKI/$name.csr" \
		-out "$PKI/$name.pem" -startdate "$start" -enddate "$end" \
		2>"$PKI/$name.ca.log" &&
	openssl x509 -in "$PKI/$name.pem" -outform DER -out "$PKI/$name.der"
}

# The canonical issuer (include/uapi/linux/svrcert.h, Keys): each value a
# UTF8String, stripped, inner white space one space, A-Z folded to a-z.
# Built from the "/K=V/..." text with `openssl asn1parse -genconf`, which
# is right for single-valued RDNs of plain text: all this PKI makes.
pki_canon_issuer() { # CERT.pem OUT.der
	local cnf
	cnf=$(mktemp)
	openssl x509 -in "$1" -noout -issuer -nameopt compat |
		LC_ALL=C awk '{
			sub(/^issuer=/, ""); n = split($0, f, "/")
			print "asn1 = SEQUENCE:name"; print "[name]"
			for (i = 2; i <= n; i++) print "r" i " = SET:r" i
			for (i = 2; i <= n; i++) {
				k = f[i]; sub(/=.*/, "", k); v = substr(f[i], length(k) + 2)
				gsub(/[ \t\n\v\f\r]+/, " ", v); sub(/^ /, "", v); sub(/ $/, "", v)
				print "[r" i "]"; print "a = SEQUENCE:a" i
				print "[a" i "]"; print "oid = OID:" k
				print "val = UTF8:" tolower(v)
			}}' >"$cnf"
	openssl asn1parse -genconf "$cnf" -out "$2" >/dev/null
	local rc=$?
	rm -f "$cnf"
	return $rc
}

# tbsCertificate's children sit at depth 2: [0] version, serialNumber, ...
# `openssl asn1parse` gives each one's offset, header length and content
# length; the serial's TLV is offset .. offset+hl+l.
pki_revkey() {
	local der name
	der=$(mktemp)
	name=$(mktemp)
	openssl x509 -in "$1" -outform DER -out "$der" &&
	pki_canon_issuer "$1" "$name" || { rm -f "$der" "$name"; return 1; }
	{
		cat "$name"
		openssl asn1parse -inform DER -in "$der" |
		sed -n 's/^ *\([0-9]*\):d=2 *hl= *\([0-9]*\) *l= *\([0-9]*\) .*: *\([^:]*[^ :]\) *.*$/\1 \2 \3 \4/p' |
		awk '
			NR == 1 && $4 ~ /^cont/ { next }	# [0] version
			{ print $1, $2 + $3; exit }' |
		while read -r off len; do
			tail -c +$((off + 1)) "$der" | head -c "$len"
		done
	} | sha256sum | cut -d' ' -f1
	rm -f "$der" "$name"
}

pki_fingerprint() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}
