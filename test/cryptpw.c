/*
 * cryptpw - print the crypt(3) hash of a password, for the userlists of
 * test/auth.bats.
 *
 * Usage: cryptpw PASSWORD PREFIX [COUNT]
 *
 * PREFIX names the method as crypt_gensalt(3) takes it ("$6$" SHA-512,
 * "$5$" SHA-256, "$y$" yescrypt, "$1$" MD5...); a random salt and the
 * method's cost are added: COUNT (SHA's rounds...), or its default. The hash is made by this system's
 * libcrypt, the one wsproxy verifies with.
 *
 * Exit status: 0 ok, 1 the method is not supported here, 64 usage error.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	const char *hash;
	unsigned long count = 0;
	char *end;

	if (argc == 4) {
		count = strtoul(argv[3], &end, 10);
		if (*argv[3] == '\0' || *end != '\0')
			argc = 0;
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: cryptpw PASSWORD PREFIX [COUNT]\n");
		return 64;
	}
	/* NULL entropy: libxcrypt reads it from the system */
	if (crypt_gensalt_rn(argv[2], count, NULL, 0, setting,
	    sizeof(setting)) == NULL) {
		fprintf(stderr, "cryptpw: method '%s' not supported\n",
		    argv[2]);
		return 1;
	}
	memset(&data, 0, sizeof(data));
	hash = crypt_r(argv[1], setting, &data);
	if (hash == NULL || hash[0] == '*') {
		fprintf(stderr, "cryptpw: crypt failed for '%s'\n", setting);
		return 1;
	}
	if (printf("%s\n", hash) < 0 || fflush(stdout) != 0)
		return 1;
	return 0;
}
