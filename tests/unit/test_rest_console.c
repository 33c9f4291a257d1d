/* The console's static files (node/api/route53/rest_console.h): what a
 * path names, with the embedded table cmake/embed_console.cmake wrote
 * from node/api/console/ (each file byte for byte, its Content-Type). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/api/route53/rest_console.h"
#include "node/common/errcode.h"

static void test_paths(void **state)
{
	const struct rest_console_file *f;
	const char *type;
	(void)state;

	assert_int_equal(rest_console_lookup("/console", &f, &type), 1);
	assert_null(f);
	assert_int_equal(rest_console_lookup("/console/", &f, &type), 0);
	assert_string_equal(f->name, "index.html");
	assert_string_equal(type, "text/html; charset=utf-8");
	assert_int_equal(rest_console_lookup("/console/api.js", &f, &type), 0);
	assert_string_equal(type, "text/javascript; charset=utf-8");
	assert_int_equal(rest_console_lookup("/console/console.css", &f, &type),
			 0);
	assert_string_equal(type, "text/css; charset=utf-8");
	static const char *const none[] = {"/console/nope.js",
					   "/console/../CMakeLists.txt",
					   "/console/a/b.js",
					   "/console//index.html",
					   "/consolex",
					   "/",
					   "/2013-04-01/hostedzone",
					   "/console/index.htm"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(rest_console_lookup(none[i], &f, &type),
				 Q53_ENOENT);
		assert_null(f);
	}
	assert_true(rest_console_match("/console"));
	assert_true(rest_console_match("/console/x"));
	assert_false(rest_console_match("/consolex"));
	assert_false(rest_console_match("/q53/api"));
}

/* Every embedded file is its source file, byte for byte. */
static void test_embedded_as_in_the_tree(void **state)
{
	(void)state;
	assert_true(rest_console_n_files >= 4);
	for (size_t i = 0; i < rest_console_n_files; i++) {
		const struct rest_console_file *f = &rest_console_files[i];
		char path[4096];
		/* tests/unit/ -> the tree's node/api/console/ */
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;
		snprintf(path, sizeof(path), "%.*s/../../node/api/console/%s",
			 n, slash ? __FILE__ : ".", f->name);
		FILE *fp = fopen(path, "rb");
		assert_non_null(fp);
		unsigned char *buf = malloc(f->len + 1);
		assert_non_null(buf);
		size_t got = fread(buf, 1, f->len + 1, fp);
		fclose(fp);
		assert_int_equal(got, f->len);
		assert_memory_equal(buf, f->data, f->len);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_embedded_as_in_the_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
