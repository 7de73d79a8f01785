#!/bin/sh
# Exits at once but leaves a child in the background holding its stdout.
# Arguments: DIR, where it appends the child's pid.
sleep 1000 &
echo $! >> "$1/pids"
echo "printed_before_exit 1"
exit 0
