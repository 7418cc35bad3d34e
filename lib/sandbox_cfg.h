/*
 * sandbox_cfg.h - the sandbox client's options from the settings
 * (lib/config.h), for every caller that runs code: tools/call
 * (lib/mcp_calls.c), test runs and the validator (lib/tools_run.c), and the
 * worker that starts its warm sandbox ahead of the first call
 * (fcgi/worker.c).
 */
#ifndef TG_SANDBOX_CFG_H
#define TG_SANDBOX_CFG_H

#include "lib/config.h"
#include "lib/sandbox_client.h"

/* The warm-sandbox fields of o (docs/sandbox.md "Warm sandboxes"). With
 * TOOLGATE_PACKAGES_DIR the helper gets --packages-root: a server's
 * package set then runs warm (its zygote sees the trees, each child keeps
 * only its call's; docs/packages.md). Every caller sets these, so the
 * warm helper's arguments (its key) are the same for every call. */
static inline void
tg_sandbox_warm_opts(const struct tg_config *cfg, struct tg_sandbox_opts *o)
{
	static const char *pkg_args[3];

	if (cfg->packages_dir[0] != '\0') {
		pkg_args[0] = "--packages-root";
		pkg_args[1] = cfg->packages_dir;
		pkg_args[2] = NULL;
		o->extra_args = pkg_args;
	}
	o->warm = cfg->sandbox_warm ? 1 : 0;
	o->warm_calls = cfg->sandbox_warm_calls;
	o->warm_ms = cfg->sandbox_warm_minutes * 60 * 1000;
}

/* Every field the settings decide. */
static inline void
tg_sandbox_opts_config(const struct tg_config *cfg, struct tg_sandbox_opts *o)
{
	o->helper_path = cfg->sandbox_helper[0] ? cfg->sandbox_helper : NULL;
	o->python_path = cfg->sandbox_python[0] ? cfg->sandbox_python : NULL;
	o->allow_degraded = cfg->sandbox_allow_degraded;
	tg_sandbox_warm_opts(cfg, o);
}

#endif
