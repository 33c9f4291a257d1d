#!/bin/sh
# Cluster CA and node certificates for q53d's mutual TLS between members
# (--peer-tls-ca / --peer-tls-cert / --peer-tls-key), with the openssl CLI:
# EC P-256, SHA-256, the node id in the subject (CN=q53-node-ID) and in a
# DNS subjectAltName. The CA key stays in DIR (ca.key, mode 0600): keep it
# off the nodes once their certificates are made.
#
#   deploy/peer-tls-certs.sh DIR ID...      e.g. deploy/peer-tls-certs.sh /etc/q53/tls 1 2 3
#
# Writes DIR/ca.pem (created once, reused) and DIR/node-ID.pem,
# DIR/node-ID.key for each ID. Days: Q53_TLS_DAYS (default 825).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR ID..." >&2; exit 2; }
dir=$1; shift
days=${Q53_TLS_DAYS:-825}
umask 077
mkdir -p "$dir"
if [ ! -f "$dir/ca.pem" ]; then
	openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days" \
		-subj "/CN=q53 cluster CA" -out "$dir/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
fi
for id in "$@"; do
	case $id in *[!0-9]*|'') echo "$0: bad node id '$id'" >&2; exit 2;; esac
	key=$dir/node-$id.key crt=$dir/node-$id.pem csr=$dir/node-$id.csr
	ext=$dir/node-$id.ext
	openssl ecparam -name prime256v1 -genkey -noout -out "$key"
	openssl req -new -key "$key" -subj "/CN=q53-node-$id" -out "$csr"
	printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth,clientAuth" \
		"subjectAltName=DNS:q53-node-$id" > "$ext"
	openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-CAcreateserial -sha256 -days "$days" -extfile "$ext" \
		-out "$crt" 2>/dev/null
	rm -f "$csr" "$ext"
done
