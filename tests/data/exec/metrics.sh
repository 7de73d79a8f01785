#!/bin/sh
# An exec plugin that works: trailwatch and collectd lines, a comment, what it
# sees of its environment, and a last line without its newline.
# Arguments: DIR, where it writes its pid.
echo $$ > "$1/metrics.pid"
echo "# a comment line"
echo "queue_depth 42 Count queue=emails host_role=worker"
echo "args_seen $# Count"
echo "interval_seen $COLLECTD_INTERVAL Seconds"
echo "PUTVAL \"$COLLECTD_HOSTNAME/app-x/gauge-jobs\" interval=$COLLECTD_INTERVAL N:7"
echo "PUTNOTIF severity=warning time=$(date +%s) message=queue is getting long"
# stdin is /dev/null: read fails at once (status 1) instead of waiting.
read -r line
echo "stdin_read_status $? None"
# Its own process group: field 5 of /proc/PID/stat is the group.
set -- $(cat /proc/$$/stat)
[ "$5" = "$$" ] && echo "own_process_group 1" || echo "own_process_group 0"
# Only stdin, stdout and stderr come from the agent: the test left
# descriptor $TW_TEST_LEAK_FD open without close-on-exec.
[ -e "/proc/$$/fd/$TW_TEST_LEAK_FD" ] && echo "inherited_fd 1" || echo "inherited_fd 0"
printf 'no_newline_at_end 5'
