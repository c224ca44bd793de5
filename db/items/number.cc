// Copyright 2026 The runnel Authors.
//
// A Number is kept as its significant digits and a decimal exponent (value =
// 0.DIGITS * 10^exponent), which is already the normalized form: comparing,
// printing and the key encoding read it directly. Only arithmetic needs a big
// integer (Boost.Multiprecision), to align the two operands exactly.

#include "db/items/number.h"

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace runnel::items {
namespace {

using boost::multiprecision::cpp_int;

constexpr size_t kMaxDigits = 38;
// 0.1E-129 = 1E-130 is the smallest magnitude, 0.99..9E+126 the largest.
constexpr int64_t kMinExponent = -129;
constexpr int64_t kMaxExponent = 126;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status Invalid(std::string_view text, std::string_view why) {
  std::string msg(why);
  msg += ": \"";
  msg += text;
  msg += '"';
  return Status::InvalidArgument(msg);
}

// The parts of number text after syntax checking: the digit run with the
// point removed, how many of them precede the point, and the exponent.
struct Lexed {
  bool negative = false;
  std::string digits;
  int64_t int_digits = 0;
  int64_t exponent = 0;
};

// Reads an exponent's digits, saturating far beyond any valid exponent so
// that "1E99999999999999999999" is an overflow, not a wrap-around.
int64_t ReadExponent(std::string_view s) {
  int64_t e = 0;
  for (char c : s) e = std::min<int64_t>(e * 10 + (c - '0'), int64_t{1} << 40);
  return e;
}

bool Lex(std::string_view s, Lexed* out) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) out->negative = s[i++] == '-';
  bool seen_point = false;
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i])) {
      out->digits += s[i];
      if (!seen_point) ++out->int_digits;
    } else if (s[i] == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (out->digits.empty()) return false;
  if (i == s.size()) return true;
  if (s[i] != 'e' && s[i] != 'E') return false;
  ++i;
  bool exp_negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
  const std::string_view exp = s.substr(i);
  if (exp.empty() || !std::all_of(exp.begin(), exp.end(), IsDigit)) return false;
  out->exponent = exp_negative ? -ReadExponent(exp) : ReadExponent(exp);
  return true;
}

// Builds a Number from a digit run whose leading digit has weight
// 10^(exponent-1); checks precision and range. `text` names the number in
// errors.
Status Make(bool negative, std::string digits, int64_t exponent, std::string_view text,
            bool* zero_out, bool* neg_out, std::string* digits_out, int32_t* exp_out) {
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    *zero_out = true;
    *neg_out = false;
    digits_out->clear();
    *exp_out = 0;
    return Status::OK();
  }
  exponent -= static_cast<int64_t>(first);
  digits.erase(0, first);
  digits.erase(digits.find_last_not_of('0') + 1);
  if (digits.size() > kMaxDigits) {
    return Invalid(text, "Attempting to store more than 38 significant digits in a Number");
  }
  if (exponent > kMaxExponent) {
    return Invalid(text,
                   "Number overflow. Attempting to store a number with magnitude larger than "
                   "supported range");
  }
  if (exponent < kMinExponent) {
    return Invalid(text,
                   "Number underflow. Attempting to store a number with magnitude smaller than "
                   "supported range");
  }
  *zero_out = false;
  *neg_out = negative;
  *digits_out = std::move(digits);
  *exp_out = static_cast<int32_t>(exponent);
  return Status::OK();
}

// value = coefficient * 10^scale, exactly.
struct Scaled {
  cpp_int coefficient;
  int64_t scale = 0;
};

Scaled ToScaled(const Number& n) {
  Scaled s;
  if (n.is_zero()) return s;
  s.coefficient = cpp_int(n.digits());
  if (n.negative()) s.coefficient = -s.coefficient;
  s.scale = n.exponent() - static_cast<int64_t>(n.digits().size());
  return s;
}

cpp_int Pow10(int64_t n) {
  cpp_int r = 1;
  static const cpp_int kTen = 10;
  for (int64_t i = 0; i < n; ++i) r *= kTen;
  return r;
}

}  // namespace

Status Number::Parse(std::string_view text, Number* out) {
  Lexed lexed;
  if (!Lex(text, &lexed))
    return Invalid(text, "The parameter cannot be converted to a numeric value");
  // 0.DIGITS * 10^(int_digits + exponent).
  Number n;
  bool zero = false;
  const int64_t exponent = lexed.int_digits + lexed.exponent;
  Status s = Make(lexed.negative, std::move(lexed.digits), exponent, text, &zero, &n.negative_,
                  &n.digits_, &n.exponent_);
  if (!s.ok()) return s;
  *out = std::move(n);
  return Status::OK();
}

bool Number::is_zero() const { return digits_.empty(); }

std::string Number::ToString() const {
  if (is_zero()) return "0";
  std::string s;
  if (negative_) s += '-';
  const int64_t len = static_cast<int64_t>(digits_.size());
  if (exponent_ <= 0) {
    s += "0.";
    s.append(static_cast<size_t>(-exponent_), '0');
    s += digits_;
  } else if (exponent_ >= len) {
    s += digits_;
    s.append(static_cast<size_t>(exponent_ - len), '0');
  } else {
    s.append(digits_, 0, static_cast<size_t>(exponent_));
    s += '.';
    s.append(digits_, static_cast<size_t>(exponent_));
  }
  return s;
}

Status Number::Add(const Number& a, const Number& b, Number* out) {
  if (a.is_zero()) {
    *out = b;
    return Status::OK();
  }
  if (b.is_zero()) {
    *out = a;
    return Status::OK();
  }
  Scaled x = ToScaled(a);
  Scaled y = ToScaled(b);
  // Align to the smaller scale; the gap is bounded by the valid exponent
  // range plus 38 digits, so the integers stay a few hundred digits long.
  if (x.scale > y.scale) {
    x.coefficient *= Pow10(x.scale - y.scale);
    x.scale = y.scale;
  } else if (y.scale > x.scale) {
    y.coefficient *= Pow10(y.scale - x.scale);
  }
  cpp_int sum = x.coefficient + y.coefficient;
  const bool negative = sum < 0;
  if (negative) sum = -sum;
  std::string digits = sum.str();
  const int64_t exponent = x.scale + static_cast<int64_t>(digits.size());
  const std::string text = a.ToString() + " + " + b.ToString();
  Number n;
  bool zero = false;
  Status s = Make(negative, std::move(digits), exponent, text, &zero, &n.negative_, &n.digits_,
                  &n.exponent_);
  if (!s.ok()) return s;
  *out = std::move(n);
  return Status::OK();
}

Status Number::Subtract(const Number& a, const Number& b, Number* out) {
  Number negated = b;
  if (!negated.is_zero()) negated.negative_ = !negated.negative_;
  return Add(a, negated, out);
}

int Number::Compare(const Number& a, const Number& b) {
  const int sign_a = a.is_zero() ? 0 : (a.negative_ ? -1 : 1);
  const int sign_b = b.is_zero() ? 0 : (b.negative_ ? -1 : 1);
  if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
  if (sign_a == 0) return 0;
  // Same sign: compare magnitudes, then flip for negatives.
  int magnitude;
  if (a.exponent_ != b.exponent_) {
    magnitude = a.exponent_ < b.exponent_ ? -1 : 1;
  } else {
    // Without trailing zeros, a digit string that is a prefix of the other
    // is the smaller magnitude, as bytewise comparison says.
    const int c = a.digits_.compare(b.digits_);
    magnitude = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return sign_a * magnitude;
}

bool Number::ToInt64(int64_t* out) const {
  if (is_zero()) {
    *out = 0;
    return true;
  }
  const int64_t len = static_cast<int64_t>(digits_.size());
  if (exponent_ < len || exponent_ > 19) return false;  // a fraction, or > 19 digits
  cpp_int v = cpp_int(digits_) * Pow10(exponent_ - len);
  if (negative_) v = -v;
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
    return false;
  }
  *out = static_cast<int64_t>(v);
  return true;
}

Status NormalizeNumber(std::string_view text, std::string* out) {
  Number n;
  Status s = Number::Parse(text, &n);
  if (!s.ok()) return s;
  *out = n.ToString();
  return Status::OK();
}

}  // namespace runnel::items
