/*
 * forkfloor - the floor of fork-per-connection: what a bare
 * fork(), _exit(0), waitpid() costs a process built the way wsproxy is
 * built (bench/Makefile.inc makes a dynamic and a static copy, as
 * "make" and "make static" make wsproxy).
 *
 * Usage: forkfloor [N]    (N forks, one at a time; default 2000)
 *
 * Output: one line "RESULT mode=forkfloor forks=N cpu_us_per_fork=...
 * faults_per_fork=... wall_us_per_fork=..." on stdout. CPU is user +
 * system time of this process and its reaped children (getrusage), page
 * faults are their minor + major faults: the same account
 * bench/handshake.sh keeps for wsproxy's parent and its children.
 *
 * Exit status: 0, 1 when fork or waitpid fails, 64 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
tv_us(struct timeval tv)
{
	return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

/* CPU microseconds and page faults of this process and its reaped
 * children so far. */
static void
usage_so_far(double *cpu_us, double *faults)
{
	struct rusage self, kids;

	if (getrusage(RUSAGE_SELF, &self) != 0 ||
	    getrusage(RUSAGE_CHILDREN, &kids) != 0) {
		perror("forkfloor: getrusage");
		exit(1);
	}
	*cpu_us = tv_us(self.ru_utime) + tv_us(self.ru_stime) +
	    tv_us(kids.ru_utime) + tv_us(kids.ru_stime);
	*faults = (double)(self.ru_minflt + self.ru_majflt +
	    kids.ru_minflt + kids.ru_majflt);
}

static double
mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("forkfloor: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One fork, the child gone at once, reaped before the next. */
static void
fork_once(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("forkfloor: fork");
		exit(1);
	}
	if (pid == 0)
		_exit(0);
	while (waitpid(pid, NULL, 0) < 0) {
		if (errno != EINTR) {
			perror("forkfloor: waitpid");
			exit(1);
		}
	}
}

int
main(int argc, char **argv)
{
	long forks = 2000;
	double cpu0, cpu1, flt0, flt1, t0, t1;
	char *end;

	if (argc > 2) {
		fprintf(stderr, "usage: forkfloor [N]\n");
		return 64;
	}
	if (argc == 2) {
		errno = 0;
		forks = strtol(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || forks < 1) {
			fprintf(stderr, "forkfloor: bad count '%s'\n", argv[1]);
			return 64;
		}
	}
	fork_once();            /* the first one pays for the page tables */
	usage_so_far(&cpu0, &flt0);
	t0 = mono_us();
	for (long i = 0; i < forks; i++)
		fork_once();
	t1 = mono_us();
	usage_so_far(&cpu1, &flt1);
	printf("RESULT mode=forkfloor forks=%ld cpu_us_per_fork=%.1f "
	    "faults_per_fork=%.1f wall_us_per_fork=%.1f\n", forks,
	    (cpu1 - cpu0) / (double)forks, (flt1 - flt0) / (double)forks,
	    (t1 - t0) / (double)forks);
	return 0;
}
