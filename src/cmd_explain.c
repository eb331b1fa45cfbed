/* mxfence explain [-c CONF] ADDRESS: per service, the verdict and the sources behind it. */
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

int cmd_explain(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	char text[ADDR_STRLEN], first[ADDR_STRLEN], last[ADDR_STRLEN], ports[256];
	struct policy pol;
	struct prefix addr;
	unsigned flags;
	enum parse_err e;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if (opt == 'h') {
			puts("usage: mxfence explain [-c CONF] ADDRESS\n"
			     "Per service: the verdict for ADDRESS and which sources cover it.");
			return EXIT_OK;
		}
		return usage_error("explain", "unknown option");
	}
	if (optind + 1 != argc)
		return usage_error("explain", "expected one ADDRESS");
	e = addr_parse(argv[optind], strlen(argv[optind]), &addr, &flags);
	if (e)
		return usage_error("explain", "%s '%s'", parse_strerror(e), argv[optind]);

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	addr_format(addr.addr, addr.family, text);
	printf("%s (%s)%s\n", text, addr.family == FAM_V4 ? "IPv4" : "IPv6",
	       (flags & PARSE_MAPPED) ? ", written as an IPv4-mapped IPv6 address" : "");
	for (size_t i = 0; i < pol.nservices; i++) {
		const struct service *svc = &pol.services[i];
		const struct interval_set *set = &svc->set[addr.family];
		struct verdict_why why = { svc, interval_set_lookup(set, addr.addr), set };
		size_t o = 0;

		ports[0] = '\0';
		for (size_t k = 0; k < svc->nports && o < sizeof(ports); k++) {
			char one[32];
			portrange_format(&svc->ports[k], one, sizeof(one));
			o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%s", k ? " " : "", one);
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
out:
	policy_free(&pol);
	return rc;
}
