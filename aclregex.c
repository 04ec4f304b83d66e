/*
 * aclregex.c - the regular expressions of ACLs on the C library's
 * regcomp(REG_EXTENDED), the engine of a HAProxy built without PCRE.
 *
 * HAProxy 2.6 users write PCRE2 syntax. Most of it means the same in a
 * POSIX extended expression (ERE), but some is read silently otherwise
 * by regcomp: "\d" is a literal "d", "[\d]" a backslash or a "d", "*?"
 * a greedy star, "{,3}" a repeat where PCRE2 10.42 sees text, "\<" a
 * word start where PCRE sees "<". translate() reads the pattern once,
 * as PCRE2 reads it, and writes an ERE that matches the same subjects:
 *
 *  - escapes with an exact equivalent become it: \d \D \w \W \s \S a
 *    bracket of the same bytes; \xHH, \x{HH}, \n \r \t \f \e \a the
 *    byte; a backslash before a non-alphanumeric character that
 *    character, literally; \A "^"; \z and \Z "$" (no sample holds a
 *    line feed: the parser splits lines there, so PCRE's "$ before a
 *    final newline" never differs);
 *  - a bracket expression is read into a set of bytes as PCRE reads it
 *    (escapes and [:classes:] included), then written back as POSIX
 *    wants it (']' first, '-' last), so nothing in it changes meaning;
 *  - \b and \B stay: glibc's word boundaries are PCRE's;
 *  - the rest of PCRE's own syntax is refused with a message: lazy and
 *    possessive quantifiers, "(?" and "(*" groups, back-references and
 *    octal escapes, \Q..\E, a '{' that does not start {n}, {n,} or
 *    {n,m}, a quantifier after nothing repeatable, a NUL byte, and the
 *    escapes without an equivalent (\p, \h, \R, \K, \G...).
 *
 * The classes are C-locale ctype (wsproxy never calls setlocale()), as
 * PCRE2's default tables are. An ACL only asks whether a pattern
 * matches, so POSIX's leftmost-longest rule and PCRE's ordered
 * alternatives never disagree here; patterns compile with REG_NOSUB.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclregex.h"
#include "kwtable.h"

/* The ERE being written, always NUL-terminated once non-empty. */
struct ere {
	char *s;
	size_t len, cap;
	int oom;
};

/* A set of bytes: a bracket expression or a class escape. */
struct byteset {
	unsigned char bit[32];
};

/* What one backslash escape stands for. */
enum esc_kind { ESC_BYTE, ESC_SET, ESC_ASSERT };

struct esc {
	enum esc_kind kind;
	char letter;            /* the escape's character */
	unsigned char byte;     /* ESC_BYTE */
	struct byteset set;     /* ESC_SET: the bytes of \d \w \s */
	int negate;             /* ESC_SET: \D \W \S */
	const char *ere;        /* ESC_ASSERT: its ERE */
};

/* A translation in progress. */
struct tr {
	const char *pat;        /* the pattern as written */
	const char *p;          /* what is read next */
	struct ere out;
	char *err;
	size_t errlen;
};

/* ---- output ---- */

static void
put(struct ere *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *ns = realloc(o->s, cap);
		if (ns == NULL) {
			o->oom = 1;
			return;
		}
		o->s = ns;
		o->cap = cap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
put_char(struct ere *o, int c)
{
	char ch = (char)c;

	put(o, &ch, 1);
}

/* A byte that stands for itself outside brackets. */
static void
put_literal(struct ere *o, unsigned char c)
{
	if (strchr(".[\\()*+?{|^$", c) != NULL)
		put_char(o, '\\');
	put_char(o, c);
}

static int
refuse(struct tr *t, const char *at, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(t->err, t->errlen, "regex '%s' is refused at offset %ld: %s.",
	    t->pat, (long)(at - t->pat), why);
	return -1;
}

/* ---- sets of bytes ---- */

static void
set_add(struct byteset *s, unsigned int c)
{
	s->bit[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int
set_has(const struct byteset *s, unsigned int c)
{
	return (s->bit[c >> 3] >> (c & 7)) & 1;
}

static int
is_word(int c)
{
	return isalnum(c) || c == '_';
}

static int
is_ascii(int c)
{
	return c < 128;
}

/* NUL is never added: a sample holds none, and regcomp() cannot say it. */
static void
set_add_class(struct byteset *s, int (*is)(int))
{
	for (int c = 1; c < 256; c++)
		if (is(c))
			set_add(s, (unsigned int)c);
}

static int
set_size(const struct byteset *s)
{
	int n = 0;

	for (unsigned int c = 0; c < 256; c++)
		n += set_has(s, c);
	return n;
}

/* The specials of a POSIX bracket: each has a place of its own. */
static int
bracket_special(int c)
{
	return c == ']' || c == '^' || c == '-' || c == '[';
}

/* Every non-special byte of s, consecutive ones as ranges; how many. */
static int
put_runs(struct ere *o, const struct byteset *s)
{
	int n = 0;

	for (int c = 1; c < 256; c++) {
		int e = c;
		if (!set_has(s, (unsigned int)c) || bracket_special(c))
			continue;
		while (e + 1 < 256 && set_has(s, (unsigned int)e + 1) &&
		    !bracket_special(e + 1))
			e++;
		put_char(o, c);
		if (e - c >= 2) {
			put_char(o, '-');
			put_char(o, e);
		} else if (e > c) {
			put_char(o, e);
		}
		n += e - c + 1;
		c = e;
	}
	return n;
}

/*
 * Writes s as a POSIX bracket: ']' first, '-' last, '^' never first
 * unless negating, '[' where no ':', '.' or '=' can follow it.
 */
static void
put_set(struct ere *o, const struct byteset *s, int negate)
{
	int close = set_has(s, ']'), caret = set_has(s, '^');
	int dash = set_has(s, '-'), open = set_has(s, '[');
	int others;

	if (caret && !negate && set_size(s) == 1) {
		put(o, "\\^", 2);    /* "[^]" would negate: the lone '^' */
		return;
	}
	put_char(o, '[');
	if (negate)
		put_char(o, '^');
	if (close)
		put_char(o, ']');
	others = put_runs(o, s);
	if (open)
		put_char(o, '[');
	if (caret && !negate && !close && !others && !open && dash) {
		put_char(o, '-');       /* "[-^]", not "[^-]" */
		dash = 0;
	}
	if (caret)
		put_char(o, '^');
	if (dash)
		put_char(o, '-');
	put_char(o, ']');
}

/* ---- escapes ---- */

static unsigned long
hex_value(char c)
{
	return isdigit((unsigned char)c) ? (unsigned long)(c - '0') :
	    (unsigned long)(tolower((unsigned char)c) - 'a' + 10);
}

/* \xH, \xHH, \x{H...}; t->p is after the 'x'. */
static int
parse_hex(struct tr *t, const char *at, struct esc *e)
{
	const char *q = t->p;
	unsigned long v = 0;
	int n = 0, braced = *q == '{';

	if (braced)
		q++;
	/* at most 2 digits unbraced; braced, 8 already overflow a byte */
	while (isxdigit((unsigned char)*q) && n < (braced ? 8 : 2)) {
		v = v * 16 + hex_value(*q++);
		n++;
	}
	if (braced && (n == 0 || *q++ != '}'))
		return refuse(t, at, "malformed '\\x{...}'");
	t->p = q;
	if (v == 0)
		return refuse(t, at, "a NUL byte cannot be matched");
	if (v > 255)
		return refuse(t, at, "'\\x' above ff (patterns work on bytes)");
	e->kind = ESC_BYTE;
	e->byte = (unsigned char)v;
	return 0;
}

/* \d \D \w \W \s \S */
static void
class_escape(struct esc *e, char letter)
{
	int lower = tolower((unsigned char)letter);

	e->kind = ESC_SET;
	e->negate = isupper((unsigned char)letter) != 0;
	set_add_class(&e->set, lower == 'd' ? isdigit : lower == 'w' ?
	    is_word : isspace);
}

/* A control character's escape, or 0. */
static int
control_escape(char letter)
{
	static const char from[] = "nrtfea", to[] = "\n\r\t\f\033\a";
	const char *p = strchr(from, letter);

	return p != NULL && letter != '\0' ? to[p - from] : 0;
}

/* The ERE of an assertion's escape, or NULL. */
static const char *
assertion(char letter)
{
	switch (letter) {
	case 'b':
		return "\\b";   /* glibc's word boundaries are PCRE's */
	case 'B':
		return "\\B";
	case 'A':
		return "^";
	case 'z':
	case 'Z':
		return "$";     /* no sample holds a line feed */
	default:
		return NULL;
	}
}

/* The backslash escape at t->p into e; t->p then follows it. */
static int
parse_escape(struct tr *t, struct esc *e)
{
	const char *at = t->p;
	char c = t->p[1];

	memset(e, 0, sizeof(*e));
	e->letter = c;
	if (c == '\0')
		return refuse(t, at, "'\\' ends the pattern");
	t->p += 2;
	if (!isalnum((unsigned char)c)) {
		e->kind = ESC_BYTE;     /* \. \/ \< ...: the character */
		e->byte = (unsigned char)c;
		return 0;
	}
	if (strchr("dDwWsS", c) != NULL) {
		class_escape(e, c);
		return 0;
	}
	if (control_escape(c) != 0) {
		e->kind = ESC_BYTE;
		e->byte = (unsigned char)control_escape(c);
		return 0;
	}
	if (c == 'x')
		return parse_hex(t, at, e);
	if ((e->ere = assertion(c)) != NULL) {
		e->kind = ESC_ASSERT;
		return 0;
	}
	switch (c) {
	case 'Q':
	case 'E':
		return refuse(t, at, "'\\Q...\\E' quoting is PCRE-only: escape "
		    "each special character with '\\' instead");
	case '0':
		return refuse(t, at, "octal escapes are not supported: use "
		    "'\\xHH'");
	default:
		break;
	}
	if (isdigit((unsigned char)c))
		return refuse(t, at, "back-reference '\\%c': ACL patterns "
		    "have no capture groups (HAProxy refuses it too)", c);
	return refuse(t, at, "the PCRE escape '\\%c' has no POSIX "
	    "equivalent", c);
}

/* ---- bracket expressions ---- */

static const struct posix_class {
	const char *name;
	int (*is)(int);
} posix_classes[] = {
	{ "alnum", isalnum }, { "alpha", isalpha }, { "ascii", is_ascii },
	{ "blank", isblank }, { "cntrl", iscntrl }, { "digit", isdigit },
	{ "graph", isgraph }, { "lower", islower }, { "print", isprint },
	{ "punct", ispunct }, { "space", isspace }, { "upper", isupper },
	{ "word", is_word }, { "xdigit", isxdigit },
};

static const struct kwtable class_table = KWTABLE("regex classes",
    posix_classes);

int
aclregex_tables_check(char *err, size_t errlen)
{
	return kwtable_check(&class_table, err, errlen);
}

/*
 * The end of "[:name:]", "[.x.]" or "[=x=]" at s (its terminator ':',
 * '.' or '='), or NULL where PCRE2 reads the '[' as a literal: as its
 * check_posix_syntax(), a ']' or a '[' before the terminator ends the
 * search, "\\]" and "\\\\" are skipped.
 */
static const char *
posix_end(const char *s)
{
	char term = s[1];

	for (const char *q = s + 2; *q != '\0'; q++) {
		if (*q == '\\' && (q[1] == ']' || q[1] == '\\'))
			q++;
		else if ((*q == '[' && q[1] == term) || *q == ']')
			return NULL;
		else if (*q == term && q[1] == ']')
			return q;
	}
	return NULL;
}

/*
 * "[:name:]" at t->p into set; 1 if it was one, 0 if PCRE reads the
 * '[' as a literal.
 */
static int
posix_class(struct tr *t, struct byteset *set)
{
	const char *at = t->p, *end = posix_end(at);
	const struct posix_class *pc;
	char name[16];
	size_t n;

	if (end == NULL)
		return 0;
	if (at[1] != ':')
		return refuse(t, at, "POSIX collating elements are not "
		    "supported");
	if (at[2] == '^')
		return refuse(t, at, "negated POSIX classes ('[:^...:]') are "
		    "not supported");
	n = (size_t)(end - (at + 2));
	if (n >= sizeof(name))
		return refuse(t, at, "unknown POSIX class name");
	memcpy(name, at + 2, n);
	name[n] = '\0';
	if ((pc = kwtable_find(&class_table, name)) == NULL)
		return refuse(t, at, "unknown POSIX class name '%s'", name);
	set_add_class(set, pc->is);
	t->p = end + 2;
	return 1;
}

/* One member: *byte is its byte, or -1 for a class added to set. */
static int
bracket_atom(struct tr *t, struct byteset *set, int *byte)
{
	const char *at = t->p;
	struct esc e;
	int rc;

	*byte = -1;
	if (at[0] == '[' && (at[1] == ':' || at[1] == '.' || at[1] == '=')) {
		if ((rc = posix_class(t, set)) != 0)
			return rc < 0 ? -1 : 0;
	}
	if (at[0] != '\\') {
		*byte = (unsigned char)*t->p++;
		return 0;
	}
	if (parse_escape(t, &e) < 0)
		return -1;
	if (e.kind == ESC_BYTE) {
		*byte = e.byte;
	} else if (e.kind == ESC_ASSERT && e.letter == 'b') {
		*byte = '\b';           /* backspace inside brackets */
	} else if (e.kind == ESC_SET && !e.negate) {
		for (size_t i = 0; i < sizeof(set->bit); i++)
			set->bit[i] |= e.set.bit[i];
	} else {
		return refuse(t, at, "'\\%c' has no POSIX form inside [...]",
		    e.letter);
	}
	return 0;
}

/* A byte, a range or a class. */
static int
bracket_item(struct tr *t, struct byteset *set)
{
	const char *at = t->p;
	int lo, hi;

	if (bracket_atom(t, set, &lo) < 0)
		return -1;
	if (t->p[0] != '-' || t->p[1] == ']' || t->p[1] == '\0') {
		if (lo >= 0)
			set_add(set, (unsigned int)lo);
		return 0;
	}
	t->p++;
	if (lo < 0 || bracket_atom(t, set, &hi) < 0 || hi < 0)
		return lo < 0 || hi < 0 ? refuse(t, at, "invalid range in "
		    "character class") : -1;
	if (hi < lo)
		return refuse(t, at, "range out of order in character class");
	for (int c = lo; c <= hi; c++)
		set_add(set, (unsigned int)c);
	return 0;
}

static int
parse_bracket(struct tr *t)
{
	const char *at = t->p;
	struct byteset set;
	int negate = 0, first = 1;

	memset(&set, 0, sizeof(set));
	if ((at[1] == ':' || at[1] == '.' || at[1] == '=') &&
	    posix_end(at) != NULL)      /* POSIX: a bracket of ':alph' */
		return refuse(t, at, "POSIX classes are supported only inside "
		    "a bracket expression: write '[%.*s]'",
		    (int)(posix_end(at) + 2 - at), at);
	if (*++t->p == '^') {
		negate = 1;
		t->p++;
	}
	while (*t->p != ']' || first) {
		if (*t->p == '\0')
			return refuse(t, at, "missing terminating ] for "
			    "character class");
		if (bracket_item(t, &set) < 0)
			return -1;
		first = 0;
	}
	t->p++;
	put_set(&t->out, &set, negate);
	return 0;
}

/* ---- the pattern ---- */

enum last { LAST_NOTHING, LAST_ATOM, LAST_QUANT };

/* Length of "{n}", "{n,}" or "{n,m}" at s, or 0: PCRE reads it as text. */
static size_t
interval_len(const char *s)
{
	const char *q = s + 1;

	if (!isdigit((unsigned char)*q))
		return 0;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q == ',') {
		q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	return *q == '}' ? (size_t)(q + 1 - s) : 0;
}

static int
quantifier(struct tr *t, enum last last)
{
	const char *at = t->p;
	size_t n = 1;

	if (*at == '{' && (n = interval_len(at)) == 0)
		return refuse(t, at, "'{' does not start a {n}, {n,} or {n,m} "
		    "quantifier%s: write '\\{' for a literal brace",
		    at[1] == ',' ? " ('{,n}' is text in HAProxy's PCRE2, write "
		    "'{0,n}' for a repeat)" : "");
	if (last == LAST_QUANT && *at == '?')
		return refuse(t, at, "lazy quantifiers ('*?', '+?', '?\?') are "
		    "PCRE-only: drop the '?', an ACL only asks whether the "
		    "pattern matches");
	if (last == LAST_QUANT && *at == '+')
		return refuse(t, at, "possessive quantifiers ('*+', '++', "
		    "'?+') are PCRE-only");
	if (last != LAST_ATOM)
		return refuse(t, at, "quantifier '%.*s' does not follow a "
		    "repeatable item", (int)n, at);
	put(&t->out, at, n);
	t->p += n;
	return 0;
}

static int
open_group(struct tr *t)
{
	const char *at = t->p;

	if (at[1] == '*')
		return refuse(t, at, "'(*' (a PCRE verb) is not supported");
	if (at[1] != '?') {
		put_char(&t->out, '(');
		t->p++;
		return 0;
	}
	if (at[2] == ':')
		return refuse(t, at, "'(?:' is PCRE-only: write '(' (an ACL "
		    "pattern captures nothing anyway)");
	if (at[2] == '=' || at[2] == '!' || (at[2] == '<' &&
	    (at[3] == '=' || at[3] == '!')))
		return refuse(t, at, "lookaround assertions are PCRE-only");
	if (isalpha((unsigned char)at[2]) || at[2] == '-' || at[2] == '^')
		return refuse(t, at, "inline options '(?...)' are PCRE-only: "
		    "use the ACL flag -i for case-insensitive patterns");
	return refuse(t, at, "'(?' groups are PCRE-only");
}

static int
put_escape(struct tr *t, enum last *last)
{
	struct esc e;

	if (parse_escape(t, &e) < 0)
		return -1;
	*last = LAST_ATOM;
	if (e.kind == ESC_BYTE) {
		put_literal(&t->out, e.byte);
	} else if (e.kind == ESC_SET) {
		put_set(&t->out, &e.set, e.negate);
	} else {
		put(&t->out, e.ere, strlen(e.ere));
		*last = LAST_NOTHING;
	}
	return 0;
}

static int
translate(struct tr *t)
{
	enum last last = LAST_NOTHING;
	int depth = 0, rc = 0;

	while (*t->p != '\0' && rc == 0) {
		char c = *t->p;
		if (c == '\\') {
			rc = put_escape(t, &last);
			continue;
		} else if (c == '[') {
			rc = parse_bracket(t);
		} else if (c == '(') {
			rc = open_group(t);
			depth++;
			last = LAST_NOTHING;
			continue;
		} else if (c == '*' || c == '+' || c == '?' || c == '{') {
			rc = quantifier(t, last);
			last = LAST_QUANT;
			continue;
		} else if (c == ')' && depth == 0) {
			return refuse(t, t->p, "unmatched closing parenthesis");
		} else if (c == ')') {
			depth--;
			put_char(&t->out, *t->p++);
		} else {
			put_char(&t->out, *t->p++);
		}
		last = c == '|' || c == '^' || c == '$' ? LAST_NOTHING :
		    LAST_ATOM;
	}
	if (rc == 0 && depth > 0)
		return refuse(t, t->p, "missing closing parenthesis");
	return rc;
}

static int
compile(regex_t *re, const char *pattern, int cflags, char *err,
    size_t errlen)
{
	struct tr t;
	char msg[128];
	int rc;

	memset(&t, 0, sizeof(t));
	t.pat = t.p = pattern;
	t.err = err;
	t.errlen = errlen;
	if (translate(&t) < 0) {
		free(t.out.s);
		return -1;
	}
	if (t.out.oom) {
		free(t.out.s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = regcomp(re, t.out.s != NULL ? t.out.s : "", REG_EXTENDED | cflags);
	free(t.out.s);
	if (rc == 0)
		return 0;
	(void)regerror(rc, re, msg, sizeof(msg));
	snprintf(err, errlen, "regex '%s' is invalid (error=%s).", pattern,
	    msg);
	return -1;
}

int
aclregex_compile(regex_t *re, const char *pattern, int icase, char *err,
    size_t errlen)
{
	return compile(re, pattern, REG_NOSUB | (icase ? REG_ICASE : 0), err,
	    errlen);
}

/* The translation keeps every group a group and adds none: \1 of the
 * PCRE pattern is group 1 of the POSIX one. */
int
aclregex_compile_groups(regex_t *re, const char *pattern, int icase,
    char *err, size_t errlen)
{
	return compile(re, pattern, icase ? REG_ICASE : 0, err, errlen);
}

/*
 * regexec() reads a NUL-terminated string, and a sample points into the
 * request without one: it is copied. (REG_STARTEND would spare the copy,
 * but neither POSIX nor musl has it, and the sanitizers' regexec() reads
 * up to a NUL whatever the flags.) A sample never holds a NUL - the
 * parser refuses control characters - so the copy is the same subject.
 */
int
aclregex_match(const regex_t *re, const char *s, size_t len)
{
	char buf[512], *str = len < sizeof(buf) ? buf : malloc(len + 1);
	int matched;

	if (str == NULL)
		return 0;
	if (len > 0)
		memcpy(str, s, len);
	str[len] = '\0';
	matched = regexec(re, str, 0, NULL, 0) == 0;
	if (str != buf)
		free(str);
	return matched;
}

int
aclregex_exec(const regex_t *re, const char *s, size_t len, regmatch_t *m,
    size_t nm)
{
	char buf[512], *str = len < sizeof(buf) ? buf : malloc(len + 1);
	int matched;

	if (str == NULL)
		return 0;
	if (len > 0)
		memcpy(str, s, len);
	str[len] = '\0';
	matched = regexec(re, str, nm, m, 0) == 0;
	if (str != buf)
		free(str);
	return matched;
}
