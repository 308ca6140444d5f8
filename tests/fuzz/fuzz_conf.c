/* libFuzzer driver for the configuration reader (lib/conf) and the call manager's schema. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	struct conf_err err;
	char msg[700];

	log_set_level(LOG_ERR);
	memset(&err, 0, sizeof(err));
	if (conf_parse(&c, "fuzz.conf", (const char *)data, size, &err) != 0) {
		/* an error names a line inside the input and says something */
		if (err.msg[0] == '\0' || err.line == 0)
			abort();
		conf_err_str(&err, msg, sizeof(msg));
		return 0;
	}
	/* invariants: sections and items are well formed */
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct conf_section *s = &c->secs[i];
		if (s->type == NULL || s->type[0] == '\0' || s->line == 0)
			abort();
		for (size_t j = 0; j < s->nitems; j++) {
			if (s->items[j].key == NULL ||
			    s->items[j].val == NULL ||
			    s->items[j].line < s->line)
				abort();
		}
		if (conf_find(c, s->type, s->name) == NULL)
			abort();
	}
	conf_free(c);
	return 0;
}
