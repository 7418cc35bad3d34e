/*
 * worker.h - serving requests: the FastCGI accept loop of a worker and the
 * single-request CGI mode.
 */
#ifndef TG_WORKER_H
#define TG_WORKER_H

struct tg_config;
struct tg_metrics;

/* Runs the accept loop on listen_fd until SIGTERM; returns the exit code. */
int tg_worker_run(const struct tg_config *cfg, int listen_fd,
    struct tg_metrics *metrics);
/* Serves exactly one CGI request from the environment and stdin/stdout. */
int tg_cgi_serve(const struct tg_config *cfg);

#endif
