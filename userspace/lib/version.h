/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SVRCERT_VERSION_H
#define SVRCERT_VERSION_H

#define SVRCERT_VERSION_STRING "0.1.0"
extern const char svrcert_version[];

#endif
