#!/bin/sh
# Makes a throwaway test CA and a server certificate it signed, for HTTPS tests only:
#   OUT/tls/server.pem, OUT/tls/server.key  the server's chain and key, where the server looks
#                                           for them in its store (tls/ in the site)
#   CA.pem                                  the CA's certificate, for curl --cacert
# Usage: make-test-cert.sh [OUT [CA.pem]]   (default: htdocs and test-ca.pem beside this script)
# The certificate names localhost, 127.0.0.1 and 10.0.0.2 (the direct stack's default), or
# what $SAN lists instead (openssl's form: SAN=DNS:site.test,IP:10.0.0.57), for an address
# DHCP gave.
# Never serve a real site with these: the CA's key is thrown away, but the server's key is
# in the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/htdocs}
ca_pem=${2:-$here/test-ca.pem}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=mirage-rs test CA" -keyout "$work/ca.key" -out "$ca_pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=${SAN:-DNS:localhost,IP:127.0.0.1,IP:10.0.0.2}" \
    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$ca_pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 3650 -extfile "$work/ext" -out "$out/tls/server.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$work/server.key" -out "$out/tls/server.key"
echo "wrote $out/tls/server.pem, $out/tls/server.key and $ca_pem"
