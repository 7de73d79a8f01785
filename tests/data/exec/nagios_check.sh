#!/bin/sh
# A Nagios check that reports WARNING (exit status 1) with perfdata.
echo "DISK WARNING - free space: / 100 MB (10%) | /=900MB;800;950;0;1000"
echo "long text: /var is fine"
exit 1
