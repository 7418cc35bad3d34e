/*
 * test_packages.c - the third-party package settings (issue #20;
 * docs/packages.md): TOOLGATE_PIP_INDEX_URL and TOOLGATE_OSV_URL must be
 * http(s) URLs, TOOLGATE_PIP_EXTRA_HOSTS host names, TOOLGATE_PACKAGES_DIR an
 * absolute path, and TOOLGATE_PIP_MAX_DOWNLOAD (MiB, the installer's own
 * download cap) defaults to 256 and stays within 1..4096.
 * The flow itself runs in tests/integration/test_packages.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/status.h"
#include "tests/unit/unit.h"

#define load unit_config2

static void
t_off_by_default(void **state)
{
	struct tg_config c;
	char err[256];

	(void)state;
	assert_int_equal(load(NULL, NULL, NULL, NULL, &c, err), 0);
	assert_string_equal(c.pip_index_url, "");
	assert_string_equal(c.osv_url, "");
	assert_string_equal(c.packages_dir, "");
	assert_int_equal(c.pip_max_download_mb, 256);
}

static void
t_urls_and_dir(void **state)
{
	struct tg_config c;
	char err[256];

	(void)state;
	assert_int_equal(load("TOOLGATE_PIP_INDEX_URL", "https://pypi.org/simple/",
			     "TOOLGATE_PACKAGES_DIR", "/var/lib/toolgate/packages", &c, err),
	    0);
	assert_string_equal(c.pip_index_url, "https://pypi.org/simple/");
	assert_string_equal(c.packages_dir, "/var/lib/toolgate/packages");
	tg_config_wipe(&c);
	unit_config_refused("TOOLGATE_PIP_INDEX_URL", "file:///etc/", "TOOLGATE_PIP_INDEX_URL");
	unit_config_refused("TOOLGATE_OSV_URL", "ftp://osv", "TOOLGATE_OSV_URL");
	assert_int_equal(load("TOOLGATE_PIP_EXTRA_HOSTS", "files.pythonhosted.org,m.example:8443",
			     NULL, NULL, &c, err),
	    0);
	assert_string_equal(c.pip_extra_hosts, "files.pythonhosted.org,m.example:8443");
	tg_config_wipe(&c);
	unit_config_refused("TOOLGATE_PIP_EXTRA_HOSTS", "Evil Host", "TOOLGATE_PIP_EXTRA_HOSTS");
	unit_config_refused("TOOLGATE_PACKAGES_DIR", "var/packages", "TOOLGATE_PACKAGES_DIR");
	unit_config_refused("TOOLGATE_PACKAGES_DIR", "/tmp/packages", "/tmp");
}

static void
t_max_download(void **state)
{
	struct tg_config c;
	char err[256];

	(void)state;
	assert_int_equal(load("TOOLGATE_PIP_MAX_DOWNLOAD", "20", NULL, NULL, &c, err),
	    0);
	assert_int_equal(c.pip_max_download_mb, 20);
	tg_config_wipe(&c);
	unit_config_refused("TOOLGATE_PIP_MAX_DOWNLOAD", "0", "TOOLGATE_PIP_MAX_DOWNLOAD");
	unit_config_refused("TOOLGATE_PIP_MAX_DOWNLOAD", "5000", "TOOLGATE_PIP_MAX_DOWNLOAD");
	unit_config_refused("TOOLGATE_PIP_MAX_DOWNLOAD", "12MB", "TOOLGATE_PIP_MAX_DOWNLOAD");
}

TG_TEST_MAIN("packages", NULL, NULL, t_off_by_default, t_urls_and_dir,
    t_max_download)
