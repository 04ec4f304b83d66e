/*
 * forkfloor - the floor of fork-per-connection: what a bare
 * fork(), _exit(0), waitpid() costs a process built the way wsproxy is
 * built (bench/Makefile.inc makes a dynamic and a static copy, as
 * "make" and "make static" make wsproxy).
 *
 * Usage: forkfloor [-r PAGES | -w PAGES] [N]
 *                         (N forks, one at a time; default 2000)
 *
 * -r PAGES, -w PAGES: the parent first writes a 4 MiB area (so that fork
 * copies its page-table entries), and each child reads (or writes) one
 * byte in PAGES of its pages (0 to 1024): what one more page in a
 * child's working set costs, against -r 0 (a read is the first touch of
 * a mapped page, a write a copy-on-write fault).
 *
 * Output: one line "RESULT mode=forkfloor forks=N touched=PAGES
 * writes=0|1 cpu_us_per_fork=... faults_per_fork=... wall_us_per_fork=..."
 * on stdout. CPU is user +
 * system time of this process and its reaped children (getrusage), page
 * faults are their minor + major faults: the same account
 * bench/handshake.sh keeps for wsproxy's parent and its children.
 *
 * Exit status: 0, 1 when fork or waitpid fails, 64 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

#define PAGE_BYTES 4096
#define MAX_PAGES 1024

/* What the child touches before it exits (-r, -w). It lives on main's
 * stack, so that a bare fork's child reads no global: its floor stays
 * what it was before these options. */
struct touch {
	volatile char *area;
	long pages;
	int writes;
};

static void
touch_working_set(const struct touch *t)
{
	for (long i = 0; i < t->pages; i++) {
		if (t->writes)
			t->area[i * PAGE_BYTES] = 2;
		else
			(void)t->area[i * PAGE_BYTES];
	}
}

/* One fork, the child gone at once, reaped before the next. */
static void
fork_once(const struct touch *t)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("forkfloor: fork");
		exit(1);
	}
	if (pid == 0) {
		if (t->pages > 0)
			touch_working_set(t);
		_exit(0);
	}
	while (waitpid(pid, NULL, 0) < 0) {
		if (errno != EINTR) {
			perror("forkfloor: waitpid");
			exit(1);
		}
	}
}

static long
parse_count(const char *arg, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "forkfloor: bad count '%s'\n", arg);
		exit(64);
	}
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: forkfloor [-r PAGES | -w PAGES] [N]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	long forks = 2000;
	double cpu0, cpu1, flt0, flt1, t0, t1;
	struct touch touch = { NULL, 0, 0 };
	int c, touched = 0;

	while ((c = getopt(argc, argv, "r:w:")) != -1) {
		if (c != 'r' && c != 'w')
			usage();
		touch.pages = parse_count(optarg, 0, MAX_PAGES);
		touch.writes = c == 'w';
		touched = 1;
	}
	if (argc - optind > 1)
		usage();
	if (argc - optind == 1)
		forks = parse_count(argv[optind], 1, 1L << 30);
	if (touched) {
		void *area = mmap(NULL, MAX_PAGES * PAGE_BYTES,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (area == MAP_FAILED) {
			perror("forkfloor: mmap");
			return 1;
		}
		memset(area, 1, MAX_PAGES * PAGE_BYTES);
		touch.area = area;
	}
	fork_once(&touch);      /* the first one pays for the page tables */
	usage_so_far(&cpu0, &flt0);
	t0 = mono_us();
	for (long i = 0; i < forks; i++)
		fork_once(&touch);
	t1 = mono_us();
	usage_so_far(&cpu1, &flt1);
	printf("RESULT mode=forkfloor forks=%ld touched=%ld writes=%d "
	    "cpu_us_per_fork=%.1f faults_per_fork=%.1f wall_us_per_fork=%.1f\n",
	    forks, touch.pages, touch.writes,
	    (cpu1 - cpu0) / (double)forks, (flt1 - flt0) / (double)forks,
	    (t1 - t0) / (double)forks);
	return 0;
}
