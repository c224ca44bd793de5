// Copyright 2026 The runnel Authors.
//
// Number: DynamoDB's exact decimal. Up to 38 significant digits, magnitude
// 1E-130 to 9.9999999999999999999999999999999999999E+125 (or zero), held as
// a sign, a coefficient (Boost.Multiprecision integer) and a power of ten.
// Never a double.
//
// Normalized text is what the cloud returns: no leading or trailing zeros,
// no exponent ("1.0", "01", "1E0" -> "1"; "1E2" -> "100"; "-0" -> "0";
// "0.00012" stays "0.00012").

#ifndef RUNNEL_DB_ITEMS_NUMBER_H_
#define RUNNEL_DB_ITEMS_NUMBER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runnel/status.h"

namespace runnel::items {

class Number {
 public:
  Number() = default;  // zero

  // Parses DynamoDB number text (optional sign, digits with an optional
  // point, optional exponent; leading/trailing spaces are not allowed).
  // InvalidArgument naming the text: not a number, more than 38 significant
  // digits, "Number overflow" or "Number underflow" out of range.
  static Status Parse(std::string_view text, Number* out);

  std::string ToString() const;  // normalized

  // Exact; InvalidArgument if the result needs more than 38 significant
  // digits or is out of range.
  static Status Add(const Number& a, const Number& b, Number* out);
  static Status Subtract(const Number& a, const Number& b, Number* out);

  // <0, 0, >0 by value.
  static int Compare(const Number& a, const Number& b);

  bool is_zero() const;
  bool negative() const { return negative_; }
  // Base-10 digits of the coefficient without trailing zeros ("" for zero),
  // and the exponent e such that value = 0.DIGITS * 10^e. Used by the
  // order-preserving key encoding.
  const std::string& digits() const { return digits_; }
  int32_t exponent() const { return exponent_; }

  // The value as whole seconds if it is an integer in int64 range (TTL).
  bool ToInt64(int64_t* out) const;

 private:
  bool negative_ = false;
  std::string digits_;  // no leading or trailing zeros; empty for zero
  int32_t exponent_ = 0;
};

// Parse + ToString.
Status NormalizeNumber(std::string_view text, std::string* out);

}  // namespace runnel::items

#endif  // RUNNEL_DB_ITEMS_NUMBER_H_
