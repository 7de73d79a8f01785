/* exec_command.c — an exec command split into argv with shell-like quoting
 * and no shell (see exec_command.h).
 */
#include "exec_command.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

typedef struct splitter {
    const char *s;
    tw_buf word;
    bool in_word, quoted;
    char **argv;
    size_t argc;
} splitter;

static void push_word(splitter *sp)
{
    sp->argv = tw_realloc(sp->argv, (sp->argc + 2) * sizeof *sp->argv);
    sp->argv[sp->argc++] = tw_memdup(tw_buf_cstr(&sp->word), sp->word.len);
    sp->argv[sp->argc] = NULL;
    tw_buf_reset(&sp->word);
    sp->in_word = sp->quoted = false;
}

/* '...': everything up to the next quote, as it is. */
static int single_quoted(splitter *sp, tw_err *err)
{
    const char *end = strchr(sp->s, '\'');
    if (end == NULL)
        return tw_err_set(err, -EINVAL, "command: a single quote is never closed");
    tw_buf_append(&sp->word, sp->s, (size_t)(end - sp->s));
    sp->s = end + 1;
    return 0;
}

/* "...": a backslash escapes only " \ $ ` and newline, as in sh. */
static int double_quoted(splitter *sp, tw_err *err)
{
    for (;;) {
        char c = *sp->s;
        if (c == '\0')
            return tw_err_set(err, -EINVAL, "command: a double quote is never closed");
        sp->s++;
        if (c == '"')
            return 0;
        if (c == '\\' && *sp->s != '\0' && strchr("\"\\$`\n", *sp->s)) {
            c = *sp->s++;
            if (c == '\n')
                continue;
        }
        tw_buf_putc(&sp->word, c);
    }
}

static bool is_shell_operator(const char *word)
{
    static const char *const operators[] = {
        "|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "2>", "2>>", "2>&1", "&>", "|&",
        ">&2", "1>&2",
    };
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++)
        if (strcmp(word, operators[i]) == 0)
            return true;
    return false;
}

static int end_word(splitter *sp, tw_err *err)
{
    if (!sp->in_word)
        return 0;
    if (!sp->quoted && is_shell_operator(tw_buf_cstr(&sp->word)))
        return tw_err_set(err, -EINVAL,
                          "command: \"%s\" would reach the program as an argument: commands do "
                          "not run through a shell; use sh -c '...' for pipes, redirections "
                          "and variables",
                          tw_buf_cstr(&sp->word));
    push_word(sp);
    return 0;
}

static int split(splitter *sp, tw_err *err)
{
    for (;;) {
        char c = *sp->s;
        if (c == '\0')
            return end_word(sp, err);
        sp->s++;
        int rc = 0;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            rc = end_word(sp, err);
        } else if (c == '\'' || c == '"') {
            sp->in_word = sp->quoted = true;
            rc = c == '\'' ? single_quoted(sp, err) : double_quoted(sp, err);
        } else if (c == '\\') {
            c = *sp->s;
            if (c == '\0')
                return tw_err_set(err, -EINVAL, "command: a backslash ends it");
            sp->s++;
            if (c != '\n') {
                tw_buf_putc(&sp->word, c);
                sp->in_word = sp->quoted = true;
            }
        } else {
            tw_buf_putc(&sp->word, c);
            sp->in_word = true;
        }
        if (rc != 0)
            return rc;
    }
}

int tw_exec_command_split(const char *command, char ***argv, tw_err *err)
{
    splitter sp = {.s = command ? command : ""};
    *argv = NULL;
    int rc = split(&sp, err);
    tw_buf_free(&sp.word);
    if (rc == 0 && sp.argc == 0)
        rc = tw_err_set(err, -EINVAL, "command: empty (expected a program and its arguments)");
    else if (rc == 0 && sp.argv[0][0] == '\0')
        rc = tw_err_set(err, -EINVAL, "command: the program name is empty");
    if (rc != 0) {
        tw_exec_command_free(sp.argv);
        return rc;
    }
    *argv = sp.argv;
    return 0;
}

void tw_exec_command_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}
