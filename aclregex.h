/*
 * aclregex.h - the regular expressions of ACLs ("-m reg", "*_reg"):
 * HAProxy's PCRE syntax translated to a POSIX extended expression for
 * the C library's regcomp(), or refused where no exact translation
 * exists.
 */
#ifndef WSPROXY_ACLREGEX_H
#define WSPROXY_ACLREGEX_H

#include <regex.h>
#include <stddef.h>

/*
 * Compiles pattern (PCRE syntax, as written after the config lexer) into
 * re, without captures, case-insensitively if icase. Returns 0, or -1
 * with err set (re is then not to be freed).
 */
int aclregex_compile(regex_t *re, const char *pattern, int icase,
    char *err, size_t errlen);

/* The same with its groups kept, for replace-header/replace-value:
 * POSIX's leftmost-longest rule decides what each group holds. */
int aclregex_compile_groups(regex_t *re, const char *pattern, int icase,
    char *err, size_t errlen);

/* Whether re (compiled with groups) matches in the len bytes at s; the
 * first nm groups' offsets into s in m. */
int aclregex_exec(const regex_t *re, const char *s, size_t len,
    regmatch_t *m, size_t nm);

/* Whether re matches anywhere in the len bytes at s. */
int aclregex_match(const regex_t *re, const char *s, size_t len);

/* 0 if aclregex.c's keyword tables are sorted (kwtable.h), else -1. */
int aclregex_tables_check(char *err, size_t errlen);

#endif
