#!/usr/bin/env bash
# Brings the operator console (http://127.0.0.1:8558/console/, demo-operator-token) to life on a
# node started by ./run.sh (./run.sh --demo runs this once the node is up): opens a market maker,
# a backstop provider and eight traders with 0.5 BTC long each on less and less margin, funds the
# insurance fund, then walks BTC down (a step a second) from 50,000 to 43,500 and back up to 45,000,
# so the traders are liquidated one after the other (by the provider while its limit lasts, then
# by deleveraging the market maker): five of them by 43,500. Account names carry this run's
# number, so it can run again on the same data. Afterwards the feeders keep publishing until
# Ctrl-C, so the marks stay fresh. Uses the demo tokens (a node with clearinghouse.demo on, bound to loopback).
set -euo pipefail
cd "$(dirname "$0")"
run=$(date +%s)
perp=BTCUSDT-PERP
future=BTCUSDT-271231
op() { CLEARINGHOUSE_TOKEN=demo-operator-token ./chctl "$@" >/dev/null; }
engine() { CLEARINGHOUSE_TOKEN=demo-engine-token ./chctl "$@" >/dev/null; }
price() {
  CLEARINGHOUSE_TOKEN=demo-feeder-token ./chctl price binance "$1" "$2" >/dev/null
  CLEARINGHOUSE_TOKEN=demo-okx-feeder-token ./chctl price okx "$1" "$2" >/dev/null
}

echo "demo: waiting for the node..."
for _ in $(seq 1 120); do
  if CLEARINGHOUSE_TOKEN=demo-operator-token ./chctl funds >/dev/null 2>&1; then break; fi
  sleep 1
done

echo "demo: prices at 50,000; opening accounts (run $run)"
price $perp 50000
price $future 50000
mm=mm-$run lp=lp-$run
op open $mm && op deposit $mm 5000000 demo-$run-mm
op open $lp && op deposit $lp 1000000 demo-$run-lp
op provider $lp 60000 $perp
op top-up $perp 2000 demo-$run-fund
deposits=(1500 1800 2200 2600 3000 3500 4000 4500)
# The traders at once (each a chctl call after the other), so the price can start falling sooner.
for i in "${!deposits[@]}"; do
  (
    trader=trader-$run-$((i + 1))
    op open $trader
    op deposit $trader "${deposits[$i]}" demo-$run-t$i
    engine trade $((run * 100 + i)) demo-$run-$i $perp 50000 0.5 $trader $mm buy
  ) &
done
wait
echo "demo: 8 traders long 0.5 BTC each; walking the price down (open the console's Liquidations panel)"
for p in 49000 48000 47500 47000 46500 46000 45500 45000 44500 44000 43500 44000 44500 45000; do
  price $perp $p
  echo "demo: mark $p"
  sleep 1
done
echo "demo: done. Liquidations: CLEARINGHOUSE_TOKEN=demo-operator-token ./chctl liquidations"
echo "demo: the feeders keep publishing around 45,000 (Ctrl-C stops)"
# A feed that stops publishing goes stale (stale-after): keep both instruments fresh, the mark moving.
while true; do
  for p in 45000 45050 45100 45050; do
    price $perp $p
    price $future 50000
    sleep 3
  done
done
