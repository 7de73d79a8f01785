#!/bin/sh
# Fails the first time (no DIR/ran yet), works after that.
if [ -e "$1/ran" ]; then
    echo "ok 1"
else
    touch "$1/ran"
    echo "first run fails" >&2
    exit 1
fi
