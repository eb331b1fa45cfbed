/*
 * Deterministic bench inputs on stdout.
 *   gen v4 N SEED       N IPv4 prefixes, lengths /20../32, host bits clear
 *   gen v6 N SEED       N IPv6 prefixes in 2000::/3, lengths /32../128, host bits clear
 *   gen flows4 N SEED   N flow lines "accept A.B.C.D tcp/25"
 *   gen flows6 N SEED   N flow lines "accept X:X::X tcp/25" in 2000::/3
 * The same arguments always give the same bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a full-period 64-bit generator, good enough for bench data. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth mentioning for small n. */
static unsigned rng_below(unsigned n)
{
	return (unsigned)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

static char *put_u8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
		*p++ = (char)('0' + v % 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
		*p++ = (char)('0' + v % 10);
	} else {
		*p++ = (char)('0' + v);
	}
	return p;
}

static char *put_v4(char *p, uint32_t a)
{
	p = put_u8(p, a >> 24);
	*p++ = '.';
	p = put_u8(p, (a >> 16) & 0xff);
	*p++ = '.';
	p = put_u8(p, (a >> 8) & 0xff);
	*p++ = '.';
	return put_u8(p, a & 0xff);
}

static void rand_v6(unsigned char b[16])
{
	uint64_t hi = rng_next(), lo = rng_next();

	hi = (hi & ~(0x7ull << 61)) | (0x1ull << 61); /* 2000::/3 */
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(hi >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
	}
}

static void clear_host(unsigned char b[16], unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned first = i * 8;
		if (first >= plen)
			b[i] = 0;
		else if (first + 8 > plen)
			b[i] &= (unsigned char)(0xff << (8 - (plen - first)));
	}
}

static void usage(void)
{
	fputs("usage: gen v4|v6|flows4|flows6 N SEED\n", stderr);
	exit(2);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || !*s || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static char obuf[1 << 16];
	uint64_t n, seed;
	char line[128];

	if (argc != 4 || parse_u64(argv[2], &n) < 0 || parse_u64(argv[3], &seed) < 0)
		usage();
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));

	/* Each mode draws from its own stream, so flows do not replay prefixes. */
	if (strcmp(argv[1], "v4") == 0) {
		rng_state = seed ^ 0x7634000000000000ull;
		for (uint64_t i = 0; i < n; i++) {
			unsigned plen = 20 + rng_below(13);
			uint32_t a = (uint32_t)(rng_next() >> 32);
			if (plen < 32)
				a &= ~(UINT32_MAX >> plen);
			char *p = put_v4(line, a);
			p += sprintf(p, "/%u\n", plen);
			fwrite(line, 1, (size_t)(p - line), stdout);
		}
	} else if (strcmp(argv[1], "v6") == 0) {
		unsigned char b[16];
		char text[INET6_ADDRSTRLEN];
		rng_state = seed ^ 0x7636000000000000ull;
		for (uint64_t i = 0; i < n; i++) {
			unsigned plen = 32 + rng_below(97);
			rand_v6(b);
			clear_host(b, plen);
			inet_ntop(AF_INET6, b, text, sizeof(text));
			printf("%s/%u\n", text, plen);
		}
	} else if (strcmp(argv[1], "flows4") == 0) {
		rng_state = seed ^ 0x666c343400000000ull;
		for (uint64_t i = 0; i < n; i++) {
			char *p = line;
			memcpy(p, "accept ", 7);
			p = put_v4(p + 7, (uint32_t)(rng_next() >> 32));
			memcpy(p, " tcp/25\n", 8);
			fwrite(line, 1, (size_t)(p + 8 - line), stdout);
		}
	} else if (strcmp(argv[1], "flows6") == 0) {
		unsigned char b[16];
		char text[INET6_ADDRSTRLEN];
		rng_state = seed ^ 0x666c363600000000ull;
		for (uint64_t i = 0; i < n; i++) {
			rand_v6(b);
			inet_ntop(AF_INET6, b, text, sizeof(text));
			printf("accept %s tcp/25\n", text);
		}
	} else {
		usage();
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen: write");
		return 1;
	}
	return 0;
}
