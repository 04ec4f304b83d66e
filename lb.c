/*
 * lb.c - server selection (placeholder).
 */
#define _GNU_SOURCE
#include "lb.h"
