#!/bin/sh
# A collectd-style exec script: loops forever, one value per interval.
# Arguments: DIR, where it writes its pid.
echo $$ > "$1/daemon.pid"
i=0
while :; do
    echo "PUTVAL \"$COLLECTD_HOSTNAME/loop/counter\" N:$i"
    i=$((i + 1))
    sleep 0.1
done
