/* parser_syslog.h — format = syslog: syslog lines as files hold them
 * (/var/log/syslog, auth.log, secure, messages), one record per line.
 *
 * Accepted, line by line:
 *   RFC 3164 as syslogd/rsyslog write it:
 *       [<PRI>]Mmm dd hh:mm:ss [host] [program[pid]:] message
 *     the day space-padded, zero-padded or not padded; an optional fraction
 *     of a second; the host may be missing ("Mar 24 14:26:01 --- last message
 *     repeated 2 times ---", "Oct 11 22:14:15 sshd[1]: ..."), so may the pid
 *     and the whole tag. The line has no year: it is the local year at the
 *     time the line was read, or the year before when that would put the line
 *     more than a day ahead of the read time (December lines read in
 *     January); Feb 29 goes back to the last leap year.
 *   RSYSLOG_FileFormat and friends: the same with an ISO 8601 timestamp,
 *       2024-01-02T03:04:05.123456+01:00 host prog[pid]: message
 *   RFC 5424:
 *       <PRI>1 TIMESTAMP HOST APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]
 *     with "-" for any absent header field, a byte order mark before the
 *     message skipped.
 * Times without a zone are this host's local time (log_localtime.h). A line
 * that is none of these (a TAB-indented continuation line, another format)
 * is a record with parsed = false and no fields.
 *
 * Fields (each only when the line has it; values point into the line except
 * facility/severity names and the constants noted):
 *   priority         the PRI number as written ("34")
 *   facility         its facility name: kern user mail daemon auth syslog lpr
 *                    news uucp cron authpriv ftp ntp audit alert clock
 *                    local0..local7
 *   severity         emerg alert crit err warning notice info debug
 *   host, program, pid, msgid
 *   structured_data  RFC 5424 SD elements as written ("[id k=\"v\"]...")
 *   message          the free text after the header
 * and, from the messages audit events are made of (syslog_auth.h):
 *   sshd, sshd-session  Accepted|Failed <method> for [invalid user ]<user>
 *                    from <addr> port <port>: auth_result (accepted|failed),
 *                    auth_method, user, remote_addr, remote_port, and
 *                    invalid_user = yes for an unknown user name;
 *                    Invalid user <user> from <addr> [port <port>]: user,
 *                    remote_addr, remote_port, invalid_user = yes (no
 *                    auth_result: the attempt that follows says how it went)
 *   sudo             <user> : [<reason> ; ]TTY=.. ; PWD=.. ; USER=.. ;
 *                    [GROUP=.. ; ]COMMAND=..: user, tty, pwd, target_user,
 *                    target_group, command, sudo_result = "allowed" or the
 *                    reason sudo gave ("3 incorrect password attempts",
 *                    "user NOT in sudoers", "command not allowed")
 *   CRON, cron, crond   (<user>) CMD (<command>): user, command
 *   any of these     "message repeated N times: [ <message>]" (rsyslog's
 *                    repeated-message reduction): the fields of <message>,
 *                    and repeated = N
 *
 * Holds nothing between lines (no flush, no pending_offset). Allocates only
 * its state in create. One thread per parser, as log_parser.h says.
 */
#ifndef TW_PARSER_SYSLOG_H
#define TW_PARSER_SYSLOG_H

#include "log_parser.h"

extern const tw_log_parser_ops tw_parser_syslog;

#endif
