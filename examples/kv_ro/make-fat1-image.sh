#!/bin/sh
# Builds fat1.img from the files in t/ (MirageOS's make-fat1-image.sh), for --kv-ro fat.
set -e
cd "$(dirname "$0")"
cargo run --quiet --package mirage-fat-image -- t fat1.img
