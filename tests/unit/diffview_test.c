/*
 * Unit tests of what a diff shows (src/diffview.c) and of the model file
 * that `diff --against FILE` reads (src/render_json.c, src/modelfile.c),
 * where the golden cases do not reach: totals on hand-made sets (CIDR
 * counts of ranges that are no CIDR, IPv6 in /64s down to a single address
 * and up to the whole space, new, unknown and other-family sets), the text
 * and JSON of a diff against hand-made old sets, and the writer and reader
 * of the model over random policies at the edges of both address spaces.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diffview.h"
#include "modelfile.h"
#include "render.h"
#include "tmpfiles.h"
#include "util.h"

static const u128 V6_DOC = (u128)0x20010db8u << 96; /* 2001:db8:: */

/* A list of sets made by hand: add_set() then add_range() to the last one. */
static void add_set(struct set_list *sl, const char *name, enum family f, bool known)
{
	sl->v = xreallocarray(sl->v, sl->n + 1, sizeof(*sl->v));
	struct set_content *v = &sl->v[sl->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->fam = f;
	v->known = known;
}

static void add_range(struct set_list *sl, u128 lo, u128 hi)
{
	range_vec_push(&sl->v[sl->n - 1].iv, lo, hi);
}

static void totals_case(const char *name, const struct set_list *old, const struct set_list *nw,
			bool changed, size_t added, size_t removed, u128 v4g, u128 v4l, u128 v6g,
			u128 v6l)
{
	struct diff_totals t;
	char a[48], b[48], c[48], d[48];

	diff_count(old, nw, &t);
	u128_format(t.v4_gained, a);
	u128_format(t.v4_lost, b);
	u128_format(t.v6_gained, c);
	u128_format(t.v6_lost, d);
	CHECK(name,
	      t.changed == changed && t.prefixes_added == added && t.prefixes_removed == removed &&
		      t.v4_gained == v4g && t.v4_lost == v4l && t.v6_gained == v6g && t.v6_lost == v6l,
	      "changed %d, +%zu/-%zu prefixes, IPv4 +%s/-%s, IPv6 /64s +%s/-%s", t.changed,
	      t.prefixes_added, t.prefixes_removed, a, b, c, d);
}

static void test_totals(void)
{
	struct set_list old = { 0 }, nw = { 0 };

	add_set(&old, "s_v4", FAM_V4, true);
	add_range(&old, 0xc0000200u, 0xc00002ffu); /* 192.0.2.0/24 */
	add_set(&old, "s_v6", FAM_V6, true);
	add_range(&old, V6_DOC, V6_DOC | (((u128)1 << 80) - 1)); /* 2001:db8::/48 */
	add_set(&nw, "s_v4", FAM_V4, true);
	add_range(&nw, 0xc0000200u, 0xc00002ffu);
	add_set(&nw, "s_v6", FAM_V6, true);
	add_range(&nw, V6_DOC, V6_DOC | (((u128)1 << 80) - 1));
	totals_case("diff: the same sets: no change", &old, &nw, false, 0, 0, 0, 0, 0, 0);

	/* 192.0.3.1 - 192.0.3.6 is four CIDRs (/32, /31, /31, /32) and six addresses. */
	range_vec_push(&nw.v[0].iv, 0xc0000301u, 0xc0000306u);
	totals_case("diff: a range that is no CIDR counts its minimal cover", &old, &nw, true, 4, 0,
		    6, 0, 0, 0);
	nw.v[0].iv.n--;

	/* IPv6 in /64s: a /128 is none, a /64 one, the lost /48 65536. */
	range_vec_free(&nw.v[1].iv);
	range_vec_push(&nw.v[1].iv, V6_DOC | ((u128)1 << 80), V6_DOC | ((u128)1 << 80));
	range_vec_push(&nw.v[1].iv, V6_DOC | ((u128)2 << 80),
		       (V6_DOC | ((u128)2 << 80)) | (((u128)1 << 64) - 1));
	totals_case("diff: IPv6 counted in /64s, a single address as none", &old, &nw, true, 2, 1, 0,
		    0, 1, 65536);

	/* The whole IPv6 space gained: 2^64 /64s, one prefix; the whole IPv4 space: 2^32. */
	struct set_list empty = { 0 }, all = { 0 };
	add_set(&empty, "s_v4", FAM_V4, true);
	add_set(&empty, "s_v6", FAM_V6, true);
	add_set(&all, "s_v4", FAM_V4, true);
	add_range(&all, 0, 0xffffffffu);
	add_set(&all, "s_v6", FAM_V6, true);
	add_range(&all, 0, ~(u128)0);
	totals_case("diff: the whole of both spaces gained", &empty, &all, true, 2, 0,
		    (u128)1 << 32, 0, (u128)1 << 64, 0);
	totals_case("diff: the whole of both spaces lost", &all, &empty, true, 0, 2, 0,
		    (u128)1 << 32, 0, (u128)1 << 64);

	/* A set the other side lacks, does not know, or holds in the other family is new. */
	struct set_list none = { 0 }, unknown = { 0 }, swapped = { 0 };
	add_set(&unknown, "s_v4", FAM_V4, false);
	add_set(&unknown, "s_v6", FAM_V6, false);
	add_set(&swapped, "s_v4", FAM_V6, true);
	add_set(&swapped, "s_v6", FAM_V4, true);
	totals_case("diff: empty sets the other side lacks are a change", &none, &empty, true, 0, 0,
		    0, 0, 0, 0);
	totals_case("diff: sets the other side does not know are new", &unknown, &all, true, 2, 0,
		    (u128)1 << 32, 0, (u128)1 << 64, 0);
	totals_case("diff: a set of the same name in the other family is new", &swapped, &empty, true,
		    0, 0, 0, 0, 0, 0);
	/* Sets only the old side has are not the policy's: nothing to count. */
	totals_case("diff: sets only the old side holds are left out", &all, &none, false, 0, 0, 0, 0,
		    0, 0);

	set_list_free(&old);
	set_list_free(&nw);
	set_list_free(&empty);
	set_list_free(&all);
	set_list_free(&unknown);
	set_list_free(&swapped);
}

/* A policy from text, compiled; 0 or -1 (messages printed). */
static int compile(struct policy *pol, const char *conf)
{
	struct diag d = { 0 };
	int rc = policy_load(pol, tmp_text("d.conf", conf), NULL, &d);

	if (rc == 0)
		rc = policy_compile(pol, &d);
	if (rc != 0)
		diag_print(&d, stdout);
	diag_free(&d);
	return rc;
}

static char *print_diff(const struct policy *pol, const struct set_list *old,
			const struct set_list *nw, const char *structure, bool json,
			struct diff_totals *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	diff_print(f, pol, old, nw, structure, json, t);
	fclose(f);
	return text;
}

static void test_print(void)
{
	struct policy pol;

	tmp_text("relays.txt", "192.0.2.0/24\n2001:db8::/48\n");
	if (compile(&pol, "[service smtp]\nports = tcp/25\nsources = relays\n"
			  "[source relays]\nformat = list\nfile = relays.txt\n") != 0) {
		CHECK("diff: the policy compiles", 0, "%s", "");
		policy_free(&pol);
		return;
	}
	struct set_list want, old = { 0 };
	wanted_sets_from_policy(&pol, &want);
	old.nsource_names = 2;
	old.source_names = xcalloc(2, sizeof(char *));
	old.source_names[0] = xstrdup("relays");
	old.source_names[1] = xstrdup("old");
	add_set(&old, "smtp_v4", FAM_V4, true);
	add_range(&old, 0xc0000200u, 0xc000027fu); /* 192.0.2.0/25 */
	add_range(&old, 0xc6336400u, 0xc63364ffu); /* 198.51.100.0/24 */
	old.v[0].sources = xcalloc(2, sizeof(uint64_t));
	old.v[0].sources[0] = 1, old.v[0].sources[1] = 2;

	struct diff_totals t, tc;
	char *text = print_diff(&pol, &old, &want, NULL, false, &t);
	static const char want_text[] =
		"smtp_v4 (service smtp, ipv4):\n"
		"+ 192.0.2.128/25           relays (relays.txt:1)\n"
		"- 198.51.100.0/24          (was: old)\n"
		"smtp_v6 (service smtp, ipv6): new set\n"
		"+ 2001:db8::/48            relays (relays.txt:2)\n"
		"total: 2 prefixes added, 1 removed; IPv4 addresses +128/-256; IPv6 /64s +65536/-0\n";
	diff_count(&old, &want, &tc);
	CHECK("diff: text against hand-made old sets, sources named on both sides",
	      strcmp(text, want_text) == 0 && t.changed && t.prefixes_added == tc.prefixes_added &&
		      t.prefixes_removed == tc.prefixes_removed && t.v4_gained == tc.v4_gained,
	      "got:\n%s", text);
	free(text);

	text = print_diff(&pol, &old, &want, NULL, true, &t);
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *sets = json_object_get(root, "sets");
	json_t *tot = json_object_get(root, "totals");
	json_t *s0 = json_array_get(sets, 0), *s1 = json_array_get(sets, 1);
	CHECK("diff: JSON against hand-made old sets",
	      root && json_is_true(json_object_get(root, "changed")) &&
		      json_is_null(json_object_get(root, "structure")) && json_array_size(sets) == 2 &&
		      json_is_false(json_object_get(s0, "new")) &&
		      json_is_true(json_object_get(s1, "new")) &&
		      json_array_size(json_object_get(s0, "added")) == 1 &&
		      json_array_size(json_object_get(s0, "removed")) == 1 &&
		      strcmp(json_string_value(json_object_get(
				     json_array_get(json_object_get(s0, "removed"), 0), "was")),
			     "old") == 0 &&
		      json_integer_value(json_object_get(tot, "prefixes_added")) == 2 &&
		      json_integer_value(json_object_get(tot, "prefixes_removed")) == 1 &&
		      strcmp(json_string_value(json_object_get(tot, "ipv4_addresses_gained")), "128") ==
			      0 &&
		      strcmp(json_string_value(json_object_get(tot, "ipv6_64s_gained")), "65536") == 0,
	      "got:\n%s", text);
	json_decref(root);
	free(text);

	/* The kernel's own table of another shape: replaced whole, a change with equal elements. */
	struct set_list same;
	wanted_sets_from_policy(&pol, &same);
	text = print_diff(&pol, &same, &want, "chain input differs", false, &t);
	CHECK("diff: a structural difference is a change even with the same elements",
	      t.changed && t.prefixes_added == 0 && t.prefixes_removed == 0 &&
		      strncmp(text, "table inet mxfence: chain input differs: it is replaced whole\n",
			      62) == 0 &&
		      strstr(text, "smtp_v4 (service smtp, ipv4): no change\n"),
	      "got:\n%s", text);
	free(text);
	set_list_free(&same);
	set_list_free(&old);
	set_list_free(&want);
	policy_free(&pol);
}

/* ------------------------------------------------------------------------ */
/* The model file over random policies: what render_json() writes, modelfile_read() reads. */

static uint64_t rng = 0x6d6f64656cull;

static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/* A prefix near an edge of its family, as text: the ends, ::/96, ::ffff:0:0/96 and around. */
static void edge_prefix(char *buf, size_t n, bool *is_v6)
{
	static const u128 anchors[] = { 0, 0xffffffffu, (u128)1 << 32, (u128)0xffff << 32,
					((u128)0xffff << 32) - 1, (u128)0x1ffff << 32, (u128)1 << 48,
					~(u128)0, (u128)0x20010db8u << 96 };
	struct prefix p;
	u128 a;

	*is_v6 = next() % 3 != 0;
	if (!*is_v6) {
		static const uint32_t v4[] = { 0, 0xffffffffu, 0x80000000u, 0x7fffffffu,
					       0xc0000200u };
		a = v4[next() % 5] + (u128)(next() % 1024) - 512;
		p.family = FAM_V4;
		p.plen = (uint8_t)(8 + next() % 25);
		a &= 0xffffffffu;
	} else {
		a = anchors[next() % (sizeof(anchors) / sizeof(anchors[0]))];
		a += (u128)(next() % 65536) - 32768;
		p.family = FAM_V6;
		/* Lengths that end at the top of ::ffff:0:0/96, lie in it, or in ::/96. */
		static const uint8_t lens[] = { 16, 48, 64, 80, 88, 92, 95, 96, 97, 112, 120, 127, 128 };
		p.plen = lens[next() % sizeof(lens)];
		/* /96 and longer inside ::ffff:0:0/96 would be IPv4 for a list: keep them IPv6. */
		if (p.plen >= 96 && (a >> 32) == 0xffff)
			p.plen = 95;
	}
	p.addr = a & ~host_mask(fam_bits(p.family), p.plen);
	prefix_format(&p, buf);
	(void)n;
}

/* The bits of one list's source names (bits) as the bits of another's (to). */
static uint64_t bits_as(const struct set_list *from, uint64_t bits, const struct set_list *to)
{
	uint64_t out = 0;

	for (size_t b = 0; b < from->nsource_names && b < 64; b++) {
		if (!(bits & (1ull << b)))
			continue;
		size_t k = 0;
		while (k < to->nsource_names && strcmp(to->source_names[k], from->source_names[b]))
			k++;
		out |= k < 64 ? 1ull << k : 0;
	}
	return out;
}

static void test_model_round_trip(void)
{
	size_t bad = 0, sets = 0, intervals = 0, in_mapped = 0, rounds = 150;
	char first[512] = "";

	for (size_t round = 0; round < rounds; round++) {
		char conf[1024], name[32];
		size_t nsrc = 1 + next() % 3, o;

		o = (size_t)snprintf(conf, sizeof(conf), "[service a]\nports = tcp/25\nsources =");
		for (size_t k = 0; k < nsrc; k++)
			o += (size_t)snprintf(conf + o, sizeof(conf) - o, " s%zu", k);
		o += (size_t)snprintf(conf + o, sizeof(conf) - o,
				      "\nallow-empty = yes\n[service b]\nports = udp/53\nsources = s0\n"
				      "allow-empty = yes\n");
		for (size_t k = 0; k < nsrc; k++) {
			char list[8192], pfx[PREFIX_STRLEN];
			size_t lo = 0, count = next() % 40;
			bool v6;
			for (size_t i = 0; i < count; i++) {
				edge_prefix(pfx, sizeof(pfx), &v6);
				lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s\n", pfx);
			}
			list[lo] = '\0';
			snprintf(name, sizeof(name), "s%zu.txt", k);
			tmp_text(name, list);
			o += (size_t)snprintf(conf + o, sizeof(conf) - o,
					      "[source s%zu]\nformat = list\nfile = s%zu.txt\n"
					      "allow-empty = yes\n",
					      k, k);
		}
		struct policy pol;
		if (compile(&pol, conf) != 0) {
			if (!bad++)
				snprintf(first, sizeof(first), "round %zu: the policy does not compile",
					 round);
			policy_free(&pol);
			continue;
		}
		const char *path = tmp_path("model.json");
		FILE *f = fopen(path, "we");
		int wrc = render_json(f, &pol);
		fclose(f);
		struct set_list file, want;
		struct diag d = { 0 };
		int rrc = modelfile_read(path, &file, &d);
		wanted_sets_from_policy(&pol, &want);
		const char *why = NULL;
		if (wrc != 0 || rrc != 0) {
			why = d.nmsgs ? d.msgs[0].text : "not written";
		} else if (file.n != want.n) {
			why = "another number of sets";
		} else {
			for (size_t i = 0; i < want.n && !why; i++) {
				const struct set_content *w = &want.v[i], *r = set_list_find(&file, w->name);
				sets++;
				if (!r || r->fam != w->fam || r->iv.n != w->iv.n) {
					why = "a set reads back of another family or size";
					break;
				}
				for (size_t k = 0; k < w->iv.n && !why; k++) {
					intervals++;
					in_mapped += w->fam == FAM_V6 && (w->iv.v[k].hi >> 32) == 0xffff;
					if (r->iv.v[k].lo != w->iv.v[k].lo || r->iv.v[k].hi != w->iv.v[k].hi)
						why = "an interval reads back different";
					else if (bits_as(&file, r->sources[k], &want) != w->sources[k] ||
						 !w->sources[k])
						why = "an interval's sources read back different";
				}
			}
			struct diff_totals t;
			diff_count(&file, &want, &t);
			if (!why && (t.changed || t.prefixes_added || t.prefixes_removed))
				why = "the diff against its own model is not empty";
		}
		if (why && !bad++)
			snprintf(first, sizeof(first), "round %zu: %s", round, why);
		diag_free(&d);
		set_list_free(&want);
		if (rrc == 0)
			set_list_free(&file);
		policy_free(&pol);
	}
	CHECK("model file: 150 random policies at the edges are read back as written, sources too",
	      bad == 0 && intervals > 1000 && in_mapped > 10,
	      "%zu bad (first: %s); %zu sets, %zu intervals, %zu ending in ::ffff:0:0/96", bad, first,
	      sets, intervals, in_mapped);
}

int main(void)
{
	tmp_begin("diffview-test");
	test_totals();
	test_print();
	test_model_round_trip();
	tmp_end();
	return failures ? 1 : 0;
}
