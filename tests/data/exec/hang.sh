#!/bin/sh
# Hangs, with a child in the background holding stdout too.
# Arguments: DIR, where it appends its pid and its child's.
sleep 1000 &
echo $! >> "$1/pids"
echo $$ >> "$1/pids"
echo "before_hang 1"
sleep 1000
