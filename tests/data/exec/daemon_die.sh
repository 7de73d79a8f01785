#!/bin/sh
# A daemon-mode script that dies at once, every time.
echo "started 1"
echo "dying" >&2
exit 3
