/* Intrusive doubly linked lists: the link is embedded in its owner. */
#ifndef NGV_CORE_LIST_H
#define NGV_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *prev, *next;
};

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void
list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool
list_empty(const struct list *l)
{
	return l->next == l;
}

/* A link that is in no list points at itself (after list_init/list_del). */
static inline bool
list_linked(const struct list *e)
{
	return e->next != NULL && e->next != e;
}

static inline void
list_add_tail(struct list *head, struct list *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static inline void
list_del(struct list *e)
{
	if (e->next == NULL)
		return;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

static inline size_t
list_count(const struct list *head)
{
	size_t n = 0;
	for (const struct list *p = head->next; p != head; p = p->next)
		n++;
	return n;
}

#define list_for_each_safe(pos, tmp, head)                                     \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);       \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
