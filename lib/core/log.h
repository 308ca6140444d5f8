/* A tiny log API: levels, printf formats, one line per event. */
#ifndef NGV_CORE_LOG_H
#define NGV_CORE_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Sends log lines to the given file descriptor (default: 2). */
void log_set_fd(int fd);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)  log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_DEBUG)                              \
			log_msg(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

/* From here on, lines written by the thread that calls this (the one running
 * base) go out together at the end of each turn of the loop: one write(2)
 * per turn instead of one per line. log_batch_stop() writes what is left
 * and goes back to a write(2) per line; call it before freeing base.
 * Returns -1 when out of memory (lines are then written one by one). */
struct event_base;
int log_batch_start(struct event_base *base);
void log_batch_stop(void);

/* Drains the OpenSSL error queue into one line prefixed by what. */
void log_openssl(enum log_level lvl, const char *what);

#endif
