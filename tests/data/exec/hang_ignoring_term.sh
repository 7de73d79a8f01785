#!/bin/sh
# Hangs and ignores SIGTERM (so does its child, which inherits the
# disposition): only SIGKILL ends them.
# Arguments: DIR, where it appends its pid and its child's.
trap '' TERM
sleep 1000 &
echo $! >> "$1/pids"
echo $$ >> "$1/pids"
echo "before_hang 1"
while :; do sleep 1; done
