#!/usr/bin/env bash
# Fetches the VADER ground truth (Hutto & Gilbert, ICWSM 2014) shipped only in the source distribution of
# the PyPI package vaderSentiment 3.3.2 (MIT): 4,200 tweets, 10,605 movie, 3,708 Amazon, 5,190 NYT snippets,
# each line = id <TAB> mean human rating (-4..+4) <TAB> text. Used by relais-listen's sentiment accuracy test.
#
# Usage: vader-gold.sh        download (pip) and extract, idempotent; prints the folder
# State: ${RELAIS_DATA_DIR:-$HOME/.cache/relais-data}/vader-3.3.2/hutto_ICWSM_2014/
set -euo pipefail
VERSION=3.3.2
SHA256=5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9
DIR="${RELAIS_DATA_DIR:-$HOME/.cache/relais-data}/vader-$VERSION"
OUT="$DIR/hutto_ICWSM_2014"
die() { echo "vader-gold: $*" >&2; exit 1; }

if [[ -s $OUT/tweets_GroundTruth.txt ]]; then echo "$OUT"; exit 0; fi
mkdir -p "$DIR"
SDIST="$DIR/vaderSentiment-$VERSION.tar.gz"
if [[ ! -s $SDIST ]]; then
  PIP=$(command -v pip3 || command -v pip) || die "pip is required (python3-pip)"
  "$PIP" download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$DIR" "vaderSentiment==$VERSION" \
    || die "pip download vaderSentiment==$VERSION failed"
fi
echo "$SHA256  $SDIST" | sha256sum -c --quiet - || die "checksum mismatch for $SDIST"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$SDIST" -C "$tmp" "vaderSentiment-$VERSION/additional_resources/hutto_ICWSM_2014.tar.gz"
tar xzf "$tmp/vaderSentiment-$VERSION/additional_resources/hutto_ICWSM_2014.tar.gz" -C "$tmp"
rm -rf "$OUT"
mv "$tmp/hutto_ICWSM_2014" "$OUT"
echo "$OUT"
