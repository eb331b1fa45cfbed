#include "metrics.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "util.h"

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are policy names ([A-Za-z0-9_]) but for the table's: escaped all the same. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void table_labels(FILE *f, const struct monitor_report *r)
{
	fputs("table=", f);
	label(f, r->table ? r->table : "");
}

/*
 * A gauge labelled by the table alone: its HELP and TYPE, then its one
 * sample, the value printed by fmt.
 */
static void __attribute__((format(printf, 5, 6)))
table_gauge(FILE *f, const struct monitor_report *r, const char *name, const char *help,
	    const char *fmt, ...)
{
	va_list ap;

	head(f, name, "gauge", help);
	fprintf(f, "%s{", name);
	table_labels(f, r);
	fputs("} ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* A count that may pass 2^53 (IPv6 addresses): a float, as Prometheus keeps it. */
static void value_u128(FILE *f, u128 v)
{
	fprintf(f, " %.17g\n", (double)v);
}

void metrics_format(FILE *f, const struct monitor_report *r)
{
	table_gauge(f, r, "mxfence_monitor_status",
		    "The monitor's verdict: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios codes).",
		    "%d", (int)r->status);
	head(f, "mxfence_monitor_problems", "gauge", "Problems found, by severity.");
	static const char *const sev[] = { "ok", "warning", "critical", "unknown" };
	for (int s = MON_WARNING; s <= MON_UNKNOWN; s++) {
		size_t n = 0;
		for (size_t i = 0; i < r->nproblems; i++)
			n += r->problems[i].status == (enum monitor_status)s;
		fputs("mxfence_monitor_problems{", f);
		table_labels(f, r);
		fprintf(f, ",severity=\"%s\"} %zu\n", sev[s], n);
	}

	if (r->kernel_read) {
		table_gauge(f, r, "mxfence_table_present",
			    "Whether the kernel holds the policy's table (1) or not (0).",
			    "%d", r->table_present ? 1 : 0);
		table_gauge(f, r, "mxfence_table_structure_ok",
			    "Whether the table's sets, chain and rules are the policy's.",
			    "%d", r->structure_ok ? 1 : 0);
		table_gauge(f, r, "mxfence_table_read_seconds",
			    "How long reading the table took (fast path: state file and generation id).",
			    "%.6f", r->read_seconds);
	}
	if (r->nsets) {
		head(f, "mxfence_set_intervals", "gauge",
		     "Intervals (merged) an allow-list set holds in the kernel.");
		for (size_t i = 0; i < r->nsets; i++) {
			if (!r->sets[i].known)
				continue;
			fputs("mxfence_set_intervals{", f);
			table_labels(f, r);
			fprintf(f, ",set=\"%s\",family=\"%s\"} %zu\n", r->sets[i].name,
				fam_name(r->sets[i].fam), r->sets[i].intervals);
		}
		head(f, "mxfence_set_addresses", "gauge",
		     "Addresses an allow-list set holds in the kernel.");
		for (size_t i = 0; i < r->nsets; i++) {
			if (!r->sets[i].known)
				continue;
			fputs("mxfence_set_addresses{", f);
			table_labels(f, r);
			fprintf(f, ",set=\"%s\",family=\"%s\"}", r->sets[i].name,
				fam_name(r->sets[i].fam));
			value_u128(f, r->sets[i].addresses);
		}
	}
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "mxfence_service_accepted_packets_total",
		  "Packets to a service's ports accepted from its allow-list (rule counters).",
		  offsetof(struct monitor_service, accepted_packets) },
		{ "mxfence_service_accepted_bytes_total", "Bytes of those packets.",
		  offsetof(struct monitor_service, accepted_bytes) },
		{ "mxfence_service_refused_packets_total",
		  "Packets to a service's ports dropped or rejected (rule counters).",
		  offsetof(struct monitor_service, refused_packets) },
		{ "mxfence_service_refused_bytes_total", "Bytes of those packets.",
		  offsetof(struct monitor_service, refused_bytes) },
	};
	size_t counted = 0;
	for (size_t i = 0; i < r->nservices; i++)
		counted += r->services[i].counted;
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]) && counted; c++) {
		head(f, counters[c].name, "counter", counters[c].help);
		for (size_t i = 0; i < r->nservices; i++) {
			if (!r->services[i].counted)
				continue;
			fprintf(f, "%s{", counters[c].name);
			table_labels(f, r);
			fprintf(f, ",service=\"%s\"} %llu\n", r->services[i].name,
				(unsigned long long)*(const uint64_t *)(const void *)((const char *)&r->services[i] + counters[c].off));
		}
	}
	if (r->have_state) {
		table_gauge(f, r, "mxfence_last_apply_timestamp_seconds",
			    "When the last apply committed (the state file's record).",
			    "%lld", (long long)r->applied_at);
	}
	if (r->saved >= 0) {
		table_gauge(f, r, "mxfence_saved_ruleset_current",
			    "Whether the saved ruleset (what a boot or an nftables reload loads) "
			    "matches the kernel.",
			    "%d", r->saved == 1);
	}
	if (r->dnat_open >= 0) {
		table_gauge(f, r, "mxfence_dnat_unfiltered",
			    "Service ports another table DNATs to a destination no 'to' covers: "
			    "mail that is not filtered.",
			    "%d", r->dnat_open);
	}
	if (r->nsources) {
		head(f, "mxfence_source_prefixes", "gauge",
		     "Prefixes in a fetched source's last good copy.");
		for (size_t i = 0; i < r->nsources; i++)
			if (r->sources[i].has_copy) {
				fputs("mxfence_source_prefixes{", f);
				table_labels(f, r);
				fprintf(f, ",source=\"%s\"} %llu\n", r->sources[i].name,
					(unsigned long long)r->sources[i].prefixes);
			}
		head(f, "mxfence_source_last_success_timestamp_seconds", "gauge",
		     "When a fetch last succeeded for a source (a new copy, or the copy found current).");
		for (size_t i = 0; i < r->nsources; i++)
			if (r->sources[i].has_copy) {
				fputs("mxfence_source_last_success_timestamp_seconds{", f);
				table_labels(f, r);
				fprintf(f, ",source=\"%s\"} %lld\n", r->sources[i].name,
					(long long)r->sources[i].checked);
			}
		head(f, "mxfence_source_last_change_timestamp_seconds", "gauge",
		     "When a source's last good copy was downloaded (its content last changed).");
		for (size_t i = 0; i < r->nsources; i++)
			if (r->sources[i].has_copy) {
				fputs("mxfence_source_last_change_timestamp_seconds{", f);
				table_labels(f, r);
				fprintf(f, ",source=\"%s\"} %lld\n", r->sources[i].name,
					(long long)r->sources[i].fetched);
			}
	}
	if (r->have_refresh) {
		table_gauge(f, r, "mxfence_refresh_last_end_timestamp_seconds",
			    "When the last refresh ended.",
			    "%lld", (long long)r->refresh_ended);
		table_gauge(f, r, "mxfence_refresh_last_exit_code",
			    "The last refresh's exit code: 0 applied or nothing to do, 2 error, 3 "
			    "refused by a gate, 4 applied with a source from its last good copy.",
			    "%d", r->refresh_exit_code);
		if (r->refresh_last_success) {
			table_gauge(f, r, "mxfence_refresh_last_success_timestamp_seconds",
				    "When the last refresh that exited 0 ended.",
				    "%lld", (long long)r->refresh_last_success);
		}
	}
}

int metrics_write(const char *path, const struct monitor_report *r, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		abort();
	metrics_format(f, r);
	fclose(f);
	/* Read by node_exporter, which runs as its own user. */
	rc = write_atomic(path, text, len, 0644, 0, err, errlen);
	free(text);
	return rc;
}
