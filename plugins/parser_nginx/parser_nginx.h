/* parser_nginx.h — the log parsers for nginx: format = nginx (access logs
 * in any log_format, the predefined "combined" when none is given) and
 * format = nginx_error (the error log, continuation lines grouped).
 *
 * Both are used through their tw_log_parser_ops (agent/log_parser.h), found
 * by name in the parser table; see the .c files for the fields they give.
 */
#ifndef TW_PARSER_NGINX_H
#define TW_PARSER_NGINX_H

#include "log_parser.h"

/* Access log. Fields: each variable of the format under its nginx name
 * without '$' (remote_addr, time_local, request, status, ...), unescaped,
 * absent when nginx wrote "-" or nothing; from $request also method, path
 * and protocol (a format without $request gives them from $request_method,
 * $request_uri and $server_protocol). Timestamp from $msec, $time_local or $time_iso8601. A line
 * that does not match the format, or whose time is not a time, is a record
 * with parsed = false. One record per line, emitted at once. */
extern const tw_log_parser_ops tw_parser_nginx;

/* Error log. Fields: time, level, pid, tid, connection, message, client,
 * server, login, request (+ method, path, protocol), subrequest, upstream,
 * host, referrer. Times are local times of the agent's time zone. A line
 * that does not start with a time continues the event before it (joined
 * with '\n'); an event is held until the next one starts or a flush. */
extern const tw_log_parser_ops tw_parser_nginx_error;

#endif
