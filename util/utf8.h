// Copyright 2026 The runnel Authors.
//
// UTF-8 validation: the one rule for deciding whether bytes are text (a JSON
// string, a DynamoDB "S" attribute) or binary (base64, "B").

#ifndef RUNNEL_UTIL_UTF8_H_
#define RUNNEL_UTIL_UTF8_H_

#include <string_view>

namespace runnel {

// True iff `s` is well-formed UTF-8 (RFC 3629): shortest forms only (no
// overlongs), no surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no
// sequence cut short. NUL bytes are valid (U+0000). The empty string is valid.
bool ValidUtf8(std::string_view s);

}  // namespace runnel

#endif  // RUNNEL_UTIL_UTF8_H_
