/*
 * userlist.c - checking a request's Basic credentials against a
 * userlist (userlist.h): the Authorization header, strict base64, the
 * user's password compared in constant time (insecure-password) or
 * through crypt_r(3) (password HASH), and group membership. The
 * sections themselves are read by cfguserlist.c.
 *
 * As in HAProxy 2.6 (get_http_auth, check_user), only the first
 * Authorization header is looked at, its scheme must be Basic, and the
 * credentials end the user name at the first ':'. Stricter than 2.6 (it
 * fails closed where 2.6 is lenient): the scheme is "Basic" exactly, not
 * a prefix of it; the base64 text must be canonical (groups of four,
 * padding only at the end, no stray bits) and the whole rest of the
 * value; decoded credentials holding a NUL byte are refused instead of
 * being cut there.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "userlist.h"

/* ---- base64 ---- */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes one group of four; pad is the '=' that end it (last group).
 * Returns the bytes written, or -1. */
static int
b64_group(const char *in, size_t pad, unsigned char *out)
{
	int v[4] = { 0, 0, 0, 0 };
	unsigned long bits;

	for (size_t k = 0; k < 4 - pad; k++)
		if ((v[k] = b64_value((unsigned char)in[k])) < 0)
			return -1;
	/* the bits the padding leaves over must be zero (canonical form) */
	if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
		return -1;
	bits = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
	    (unsigned long)v[2] << 6 | (unsigned long)v[3];
	out[0] = (unsigned char)(bits >> 16);
	out[1] = (unsigned char)(bits >> 8);
	out[2] = (unsigned char)bits;
	return (int)(3 - pad);
}

/* Strict base64 of len bytes into out (room for len / 4 * 3 bytes).
 * Returns the decoded length, or -1. */
static long
b64_decode(const char *in, size_t len, unsigned char *out)
{
	size_t pad = 0;
	long n = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		int got = b64_group(in + i, i + 4 == len ? pad : 0,
		    out + n);
		if (got < 0)
			return -1;
		n += got;
	}
	return n;
}

/* ---- credentials ---- */

/* Compares without stopping at the first difference: how long it takes
 * says nothing of where the secret differs. */
static int
secret_equal(const char *given, const char *stored)
{
	size_t given_len = strlen(given), stored_len = strlen(stored);
	unsigned diff = given_len != stored_len;

	for (size_t i = 0; i < given_len; i++) {
		size_t j = i < stored_len ? i : 0;
		diff |= (unsigned char)given[i] ^ (unsigned char)stored[j];
	}
	return diff == 0;
}

/* One crypt_data for the process: a connection's child checks one
 * request at a time. */
static struct crypt_data crypt_state;

static int
password_matches(const struct user *u, const char *password)
{
	const char *hashed;
	int matches;

	if (u->insecure)
		return secret_equal(password, u->password);
	memset(&crypt_state, 0, sizeof(crypt_state));
	hashed = crypt_r(password, u->password, &crypt_state);
	/* libxcrypt fails with NULL or with a "*0"/"*1" token */
	matches = hashed != NULL && hashed[0] != '*' &&
	    secret_equal(hashed, u->password);
	/* what the hashing left of the password */
	explicit_bzero(&crypt_state, sizeof(crypt_state));
	return matches;
}

static const struct user *
find_user(const struct userlist *ul, const char *name)
{
	for (int i = 0; i < ul->nusers; i++)
		if (strcmp(ul->users[i].name, name) == 0)
			return &ul->users[i];
	return NULL;
}

/* An unknown name costs what a known one does: the first hashed user's
 * hash is computed anyway, so that how long the answer takes does not
 * tell which names exist (when the hashes share their method). */
static void
spend_like_a_user(const struct userlist *ul, const char *password)
{
	for (int i = 0; i < ul->nusers; i++) {
		if (!ul->users[i].insecure) {
			(void)password_matches(&ul->users[i], password);
			return;
		}
	}
}

/* cred: the decoded "name:password" as a C string, split here at its
 * first ':'. */
static const struct user *
check_credentials(const struct userlist *ul, char *cred)
{
	char *colon = strchr(cred, ':');
	const struct user *u;

	if (colon == NULL)
		return NULL;
	*colon = '\0';
	u = find_user(ul, cred);
	if (u == NULL) {
		spend_like_a_user(ul, colon + 1);
		return NULL;
	}
	return password_matches(u, colon + 1) ? u : NULL;
}

/* The base64 text of "Basic TEXT" in value, or NULL for another scheme. */
static const char *
basic_credentials(const char *value, size_t len, size_t *text_len)
{
	const char *space = memchr(value, ' ', len);
	const char *end = value + len;

	if (space == NULL || (size_t)(space - value) != LITERAL_LEN("Basic") ||
	    strncasecmp(value, "Basic", LITERAL_LEN("Basic")) != 0)
		return NULL;
	while (space < end && *space == ' ')
		space++;
	*text_len = (size_t)(end - space);
	return space;
}

/*
 * The last answer, by userlist and Basic text: a request's conditions
 * often check the same credentials several times (use_backend, then
 * http-request rules), and each check of a hash costs what the hash
 * asks (milliseconds for SHA-512 or yescrypt). The answer depends on
 * nothing else, and a process serves one client connection, so this
 * only ever holds that client's own credentials. userlist_free_all()
 * forgets it: a new userlist may come at the address of a freed one.
 */
static struct {
	const struct userlist *ul;      /* NULL: empty */
	char text[512];
	size_t text_len;
	const struct user *user;
} last;

static void
last_forget(void)
{
	explicit_bzero(&last, sizeof(last));
}

static const struct user *
check_basic(const struct userlist *ul, const char *text, size_t text_len)
{
	const struct user *user = NULL;
	unsigned char *cred;
	long cred_len;

	if ((cred = malloc(text_len / 4 * 3 + 1)) == NULL)
		return NULL;
	cred_len = b64_decode(text, text_len, cred);
	if (cred_len >= 0 && memchr(cred, '\0', (size_t)cred_len) == NULL) {
		cred[cred_len] = '\0';
		user = check_credentials(ul, (char *)cred);
	}
	/* the password was in there */
	explicit_bzero(cred, text_len / 4 * 3 + 1);
	free(cred);
	return user;
}

int
userlist_authenticate(const struct userlist *ul, const struct http_msg *req,
    const struct user **user)
{
	const struct http_hdr *h;
	const char *text;
	size_t text_len;
	int idx = 0;

	*user = NULL;
	if (ul == NULL || req == NULL)
		return 0;
	h = http_hdr_find(req, "authorization", LITERAL_LEN("authorization"),
	    &idx);
	if (h == NULL ||
	    (text = basic_credentials(h->value, h->value_len, &text_len)) ==
	    NULL)
		return 0;
	if (last.ul == ul && last.text_len == text_len &&
	    memcmp(last.text, text, text_len) == 0) {
		*user = last.user;
		return *user != NULL;
	}
	*user = check_basic(ul, text, text_len);
	last_forget();
	if (text_len <= sizeof(last.text)) {
		last.ul = ul;
		memcpy(last.text, text, text_len);
		last.text_len = text_len;
		last.user = *user;
	}
	return *user != NULL;
}

int
userlist_check(const struct userlist *ul, const struct http_msg *req)
{
	const struct user *user;

	return userlist_authenticate(ul, req, &user);
}

int
userlist_in_group(const struct userlist *ul, const struct user *user,
    const char *group)
{
	for (int i = 0; i < user->ngroups; i++)
		if (strcmp(ul->groups[user->groups[i]].name, group) == 0)
			return 1;
	return 0;
}

/*
 * crypt(3) hashes the empty password with hash's settings: for a hash it
 * can verify, the result has hash's settings (everything up to the last
 * '$', or the two salt characters of DES) and hash's length. Anything
 * else (an unknown method, a truncated hash, "*" or "!" of a locked
 * account) could never match: refused rather than silently never
 * matching, as libxcrypt's failure tokens would make 2.6 do.
 */
int
userlist_hash_usable(const char *hash)
{
	const char *last_dollar = strrchr(hash, '$');
	size_t settings_len = last_dollar != NULL ?
	    (size_t)(last_dollar - hash) + 1 : 2;
	const char *out;

	memset(&crypt_state, 0, sizeof(crypt_state));
	out = crypt_r("", hash, &crypt_state);
	return out != NULL && out[0] != '*' && strlen(out) == strlen(hash) &&
	    strlen(hash) > settings_len &&
	    strncmp(out, hash, settings_len) == 0;
}

struct userlist *
userlist_find(struct userlist *list, const char *name)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

static void
userlist_free_one(struct userlist *ul)
{
	for (int i = 0; i < ul->nusers; i++) {
		struct user *u = &ul->users[i];
		if (u->password != NULL)
			explicit_bzero(u->password, strlen(u->password));
		free(u->name);
		free(u->password);
		free(u->group_names);
		free(u->groups);
	}
	free(ul->users);
	for (int i = 0; i < ul->ngroups; i++) {
		free(ul->groups[i].name);
		free(ul->groups[i].user_names);
	}
	free(ul->groups);
	free(ul->name);
	free(ul);
}

void
userlist_free_all(struct userlist *list)
{
	last_forget();
	while (list != NULL) {
		struct userlist *next = list->next;
		userlist_free_one(list);
		list = next;
	}
}
