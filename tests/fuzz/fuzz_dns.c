/*
 * DNS answers on the wire, as the resolver hands them to spf_flatten(): the
 * TXT records that spf_txt_from_wire() (ldns_wire2pkt, then the very
 * spf_txt_from_pkt() the flattening uses) takes out of them, and the SPF
 * record among them through spf_parse_record().
 *
 * Checked: a message that does not parse gives nothing; every record is
 * NUL-terminated at its length, and no longer than the message; there are
 * no more records than answers; parsing a record succeeds exactly when it
 * reports no error.
 */
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_txt *txt;
	size_t n;
	int rc = spf_txt_from_wire(data, size, &txt, &n);

	if (rc < 0) {
		FUZZ_CHECK(n == 0 && txt == NULL, "a failed parse gave %zu records", n);
		return 0;
	}
	FUZZ_CHECK(size >= 12 && n <= (size_t)(data[6] << 8 | data[7]),
		   "%zu records from %u answers", n, size >= 12 ? (data[6] << 8 | data[7]) : 0);
	for (size_t i = 0; i < n; i++) {
		struct spf_record rec;
		struct diag d = { 0 };
		FUZZ_CHECK(txt[i].text[txt[i].len] == '\0' && txt[i].len < size,
			   "record %zu: %zu bytes from a message of %zu", i, txt[i].len, size);
		if (!spf_is_record(txt[i].text, txt[i].len))
			continue;
		int prc = spf_parse_record(txt[i].text, txt[i].len, &rec, &d, "fuzz", "fuzz.example");
		FUZZ_CHECK((prc == 0) == (d.errors == 0), "returned %d with %zu errors", prc,
			   d.errors);
		spf_record_free(&rec);
		diag_free(&d);
	}
	spf_txt_free(txt, n);
	return 0;
}
