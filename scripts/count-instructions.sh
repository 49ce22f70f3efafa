#!/usr/bin/env bash
# Instructions of one native `price()` (200 lines, 10 promotions), counted by valgrind's callgrind:
# examples/price_count run with 0 and with 10 prices; the difference over 10 is one price(). Counts
# are instructions, not time, so they repeat run after run whatever else the machine is doing.
#   scripts/count-instructions.sh target/release/examples/price_count
set -euo pipefail
BIN=${1:-target/release/examples/price_count}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
command -v valgrind >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq valgrind >/dev/null; }
collected() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" 2>&1 \
    | awk '/Collected :/ { print $NF }'
}
setup=$(collected 0)
ten=$(collected 10)
per=$(( (ten - setup) / 10 ))
printf '%-48s %12s instructions (callgrind; building the cart: %s)\n' \
  "price(), 200 lines, 10 promotions, 2 codes" "$per" "$setup"
