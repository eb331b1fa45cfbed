/*
 * mxfence explain [-c CONF] ADDRESS [--to DEST]: per service, the verdict and
 * the sources behind it; with a destination, which service governs it.
 */
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "flows.h"
#include "render.h"
#include "util.h"

static void print_input(const struct policy *pol, const struct input_prefix *px, enum family f, void *arg)
{
	struct prefix p = { px->lo, px->plen, (uint8_t)f };
	/*
	 * libcidr 1.2.3's cidr_from_str() compares the last 8 bytes of its text
	 * with ".ip6.int" whatever the text's length, so it reads before a
	 * shorter one ("::1/128"): the text gets room in front of it.
	 */
	char padded[16 + PREFIX_STRLEN], *text = padded + 16, where[512];
	const char *count = "";
	CIDR *c;

	(void)arg;
	memset(padded, ' ', 16);
	prefix_format(&p, text);
	origin_where(pol, px->origin, where, sizeof(where));
	c = cidr_from_str(text); /* our own canonical text, not user input */
	if (c)
		count = cidr_numaddr(c);
	printf("    %-24s %s (%s address%s)\n", text, where, count, streq(count, "1") ? "" : "es");
	cidr_free(c);
}

/* "tcp/25 tcp/587", then "; to 192.0.2.25 203.0.113.0/28" for the family's `to`. */
static void service_text(const struct service *svc, enum family f, char *buf, size_t n)
{
	struct prefix cover[256];
	char one[PREFIX_STRLEN];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < svc->nports && o < n; k++) {
		portrange_format(&svc->ports[k], one, sizeof(one));
		o += (size_t)snprintf(buf + o, n - o, "%s%s", k ? " " : "", one);
	}
	for (size_t k = 0; k < svc->to[f].n && o < n; k++) {
		size_t c = cidr_cover(svc->to[f].v[k].lo, svc->to[f].v[k].hi, f, cover);
		for (size_t j = 0; j < c && o < n; j++) {
			if (cover[j].plen == fam_bits(f))
				addr_format(cover[j].addr, f, one);
			else
				prefix_format(&cover[j], one);
			o += (size_t)snprintf(buf + o, n - o, "%s%s", k || j ? " " : "; to ", one);
		}
	}
}

int cmd_explain(int argc, char **argv, struct globals *g)
{
	enum { OPT_TO = 0x200 };
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "to", required_argument, NULL, OPT_TO },
		{ 0 },
	};
	char text[ADDR_STRLEN], first[ADDR_STRLEN], last[ADDR_STRLEN], ports[1024];
	char dtext[ADDR_STRLEN];
	const char *to = NULL;
	struct policy pol;
	struct prefix addr, dest;
	unsigned flags, dflags = 0;
	enum parse_err e;
	int opt, rc;

	/* Options may follow the address (explain ADDRESS --to DEST): no '+'. */
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if (opt == OPT_TO) {
			to = optarg;
			continue;
		}
		if (opt == 'h') {
			puts("usage: mxfence explain [-c CONF] ADDRESS [--to DEST]\n"
			     "Per service: the verdict for ADDRESS and which sources cover it; with\n"
			     "--to, which service governs connections to DEST, as the client addresses it.");
			return EXIT_OK;
		}
		return usage_error("explain", "unknown option");
	}
	if (optind + 1 != argc)
		return usage_error("explain", "expected one ADDRESS");
	e = addr_parse(argv[optind], strlen(argv[optind]), &addr, &flags);
	if (e)
		return usage_error("explain", "%s '%s'", parse_strerror(e), argv[optind]);
	if (to) {
		e = addr_parse(to, strlen(to), &dest, &dflags);
		if (e)
			return usage_error("explain", "--to: %s '%s'", parse_strerror(e), to);
		if (dest.family != addr.family)
			return usage_error("explain", "--to: a destination of another family than "
						      "the address '%s'", to);
	}

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	addr_format(addr.addr, addr.family, text);
	printf("%s (%s)%s", text, addr.family == FAM_V4 ? "IPv4" : "IPv6",
	       (flags & PARSE_MAPPED) ? ", written as an IPv4-mapped IPv6 address" : "");
	if (to) {
		addr_format(dest.addr, dest.family, dtext);
		printf(", to %s", dtext);
	}
	putchar('\n');
	for (size_t i = 0; i < pol.nservices; i++) {
		const struct service *svc = &pol.services[i];
		const struct interval_set *set = &svc->set[addr.family];
		struct verdict_why why = { svc, interval_set_lookup(set, addr.addr), set, NULL };

		service_text(svc, (enum family)addr.family, ports, sizeof(ports));
		if (to && service_has_to(svc, (enum family)addr.family) &&
		    !service_to_covers(svc, (enum family)addr.family, dest.addr)) {
			printf("  service %s (%s): does not govern %s, which is not in its 'to'\n",
			       svc->name, ports, dtext);
			continue;
		}
		if (!why.iv) {
			printf("  service %s (%s): %s, no source covers it\n", svc->name, ports,
			       verdict_name(svc->otherwise));
			continue;
		}
		addr_format(why.iv->lo, addr.family, first);
		addr_format(why.iv->hi, addr.family, last);
		printf("  service %s (%s): accept, in set %s_%s interval %s - %s\n", svc->name, ports,
		       svc->name, addr.family == FAM_V4 ? "v4" : "v6", first, last);
		covering_inputs(&pol, &why, addr.addr, print_input, NULL);
	}
	/*
	 * A service without a `to` of the family shares no port with one that
	 * has (the policy refuses it): it governs DEST on its ports if DEST is
	 * this host's.
	 */
	for (size_t i = 0; to && i < pol.nservices; i++)
		if (!service_has_to(&pol.services[i], (enum family)addr.family))
			printf("  note: service %s has no %s 'to': it governs connections to %s only "
			       "if %s is an address of this host\n", pol.services[i].name,
			       addr.family == FAM_V4 ? "IPv4" : "IPv6", dtext, dtext);
out:
	policy_free(&pol);
	return rc;
}
