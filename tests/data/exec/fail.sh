#!/bin/sh
# Prints a metric, then complains on stderr (more lines than are logged) and
# exits 2.
echo "partial_metric 3 Count"
i=1
while [ $i -le 12 ]; do
    echo "problem number $i" >&2
    i=$((i + 1))
done
exit 2
