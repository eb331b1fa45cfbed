/*
 * How the kernel layer words things: errors into the caller's buffer, text
 * that grows, intervals of addresses or ports, errno values as sentences.
 */
#include "nl-private.h"

/* An error into the caller's err buffer, if there is one. */
void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = sb->cap - sb->len;
		va_start(ap, fmt);
		n = vsnprintf(sb->s ? sb->s + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		sb->cap = sb->cap * 2 + (size_t)n + 64;
		sb->s = xrealloc(sb->s, sb->cap);
	}
}

char *sb_take(struct sbuf *sb)
{
	if (!sb->s)
		return xstrdup("");
	return sb->s;
}

/* "40.92.0.0/15" when [lo, hi] is one prefix, else "lo-hi"; ports as numbers. */
void interval_text(u128 lo, u128 hi, unsigned key_len, char *buf, size_t n)
{
	char a[ADDR_STRLEN], z[ADDR_STRLEN];

	if (key_len == 4 || key_len == 16) {
		enum family f = key_len == 4 ? FAM_V4 : FAM_V6;
		struct prefix cover[256];
		if (cidr_cover(lo, hi, f, cover) == 1) {
			char p[PREFIX_STRLEN];
			prefix_format(&cover[0], p);
			snprintf(buf, n, "%s", p);
			return;
		}
		addr_format(lo, f, a);
		addr_format(hi, f, z);
		snprintf(buf, n, "%s-%s", a, z);
		return;
	}
	if (key_len <= 8) {
		if (lo == hi)
			snprintf(buf, n, "%llu", (unsigned long long)lo);
		else
			snprintf(buf, n, "%llu-%llu", (unsigned long long)lo, (unsigned long long)hi);
		return;
	}
	snprintf(buf, n, "0x%016llx%016llx-0x%016llx%016llx", (unsigned long long)(lo >> 64),
		 (unsigned long long)lo, (unsigned long long)(hi >> 64), (unsigned long long)hi);
}

/* "{ 465, 587 }": how a fingerprint shows an anonymous set. */
void range_list_text(struct sbuf *sb, const struct range *iv, size_t n, unsigned key_len)
{
	char t[2 * ADDR_STRLEN + 8];

	sb_printf(sb, "{ ");
	for (size_t i = 0; i < n; i++) {
		interval_text(iv[i].lo, iv[i].hi, key_len, t, sizeof(t));
		sb_printf(sb, "%s%s", i ? ", " : "", t);
	}
	sb_printf(sb, " }");
}

/* An errno of the kernel as a sentence, where strerror() says too little. */
const char *errno_text(int e)
{
	switch (e) {
	case EPERM:
		return "permission denied: needs root or CAP_NET_ADMIN";
	case ENOMEM:
		return "out of kernel memory (or the memory cgroup's limit)";
	case ENFILE:
		return "the set is full (its size limit)";
	case EMSGSIZE:
		return "message too long";
	default:
		return strerror(e);
	}
}
