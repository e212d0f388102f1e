#pragma once

#ifndef CHATGATE_VERSION
#define CHATGATE_VERSION "0.1.0"
#endif
