// SPDX-License-Identifier: GPL-2.0
#include "version.h"

const char svrcert_version[] = SVRCERT_VERSION_STRING;
