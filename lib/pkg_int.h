/*
 * pkg_int.h - what lib/packages.c and lib/pkg_tree.c share (not a public
 * interface: the services are in lib/packages.h).
 */
#ifndef TG_PKG_INT_H
#define TG_PKG_INT_H

#include <jansson.h>

#include "lib/config.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/err.h"

/* Runs the embedded resolver (lib/pkg_resolver.py) as the code of a cold
 * sandbox run with args; *result is its return value. out_dir: where an
 * install ("fetch") stores the unpacked files, or NULL. */
int tg_pkg_resolver_run(const struct tg_config *cfg, json_t *args,
    const char *out_dir, json_t **result, struct tg_err *err);

/* The content address of a closure: sha256 of its canonical JSON. */
int tg_pkg_closure_hash(json_t *closure, char out[TG_SHA256_HEX_LEN + 1]);

/* TOOLGATE_PACKAGES_DIR/<hash> into out. */
int tg_pkg_tree_path(const struct tg_config *cfg, const char *hash, char *out,
    size_t cap);

/* Makes sure the tree of closure exists under its hash (never modified). */
int tg_pkg_ensure_tree(const struct tg_config *cfg, const char *hash,
    json_t *closure, struct tg_err *err);

/*
 * The install of a claimed 'installing' request (the package-job process,
 * lib/pkg_jobs.c). job: {"id", "server_id", "name", "closure",
 * "import_names"}. Builds the tree of the server's new package set (its
 * approved requests, this one replacing an approved one of the same name)
 * outside any transaction; then, in one transaction with the server
 * locked, makes sure the set is still that one (a decision made meanwhile:
 * built again), supersedes the older approved request, makes this one
 * approved and writes the set. Until then the server keeps its previous
 * set. -TG_E_NOTFOUND when the request is no longer installing.
 */
int tg_pkg_install(struct tg_db *db, const struct tg_config *cfg, json_t *job,
    struct tg_err *err);

/* The audit row of the install of request id (actor "toolgate-packages",
 * action package_request.install; outcome TG_AUDIT_OK or _FAILED, detail
 * borrowed). Joins an open transaction. */
int tg_pkg_audit_install(struct tg_db *db, const char *id, const char *outcome,
    const json_t *detail);

#endif
