#!/bin/sh
# Writes the compiled-in site to site/ and builds site.img from it, for --kv-ro direct and
# --kv-ro fat (MirageOS's make-fat1-image.sh).
set -e
cd "$(dirname "$0")"
cargo run --quiet --package mir-static_website -- --write-site site
cargo run --quiet --package mirage-fat-image -- site site.img
