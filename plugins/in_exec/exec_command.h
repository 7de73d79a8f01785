/* exec_command.h — the command of an [exec NAME] section split into the
 * program's argv, with the quoting of a POSIX shell but nothing else of one:
 *
 *   blanks and newlines separate words;
 *   '...'   everything inside is literal;
 *   "..."   literal except that a backslash before " \ $ ` or a newline
 *           escapes it (backslash-newline disappears);
 *   \x      outside quotes, x is literal (backslash-newline disappears).
 *
 * No variable, glob, tilde or command expansion, no pipes or redirections:
 * an unquoted word that is a shell operator (| || & && ; > >> < 2> 2>&1 ...)
 * is refused, since passing it to the program as an argument is never what
 * was meant; use sh -c '...' when a shell is wanted.
 */
#ifndef TW_EXEC_COMMAND_H
#define TW_EXEC_COMMAND_H

#include "err.h"

/* Splits command into a NULL-terminated argv (at least the program), owned
 * by the caller: free it with tw_exec_command_free. Returns 0, or -EINVAL
 * with a sentence in err (empty command, an unterminated quote, a trailing
 * backslash, a shell operator); *argv is then NULL. */
int tw_exec_command_split(const char *command, char ***argv, tw_err *err);

void tw_exec_command_free(char **argv);

#endif
