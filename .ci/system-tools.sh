#!/usr/bin/env bash
# Debian tools the Python packages cannot bring: Icarus Verilog and openFPGALoader.
# Installed when running as root and missing; otherwise say what to install (tests skip).
set -uo pipefail
missing=()
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
command -v openFPGALoader >/dev/null 2>&1 || missing+=(openfpgaloader)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "warning: apt-get install ${missing[*]} failed; tests needing them will skip"
else
  echo "note: ${missing[*]} missing and not root; run: sudo apt-get install ${missing[*]}"
  echo "      (tests that need them skip with a message)"
fi
exit 0
