// Copyright 2026 The runnel Authors.

#include "triggers/filter_pattern.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "runnel/triggers.h"

namespace runnel {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

enum class FilterOp : uint8_t {
  kExact,
  kPrefix,
  kSuffix,
  kEqualsIgnoreCase,
  kAnythingBut,
  kNumeric,
  kExists,
};
enum class FilterCmp : uint8_t { kEq, kLt, kLe, kGt, kGe };

// One element of a leaf array.
struct FilterMatcher {
  FilterOp op = FilterOp::kExact;
  json value;  // kExact: a string, number, boolean or null
  // kPrefix / kSuffix / kEqualsIgnoreCase, and kAnythingBut's text.
  std::string text;
  bool ignore_case = false;  // kPrefix / kSuffix
  // kAnythingBut: kExact (one of `values`, strings or numbers), kPrefix,
  // kSuffix or kEqualsIgnoreCase (one of `values`, strings).
  FilterOp but = FilterOp::kExact;
  std::vector<json> values;
  std::vector<std::pair<FilterCmp, double>> bounds;  // kNumeric
  bool exists = true;                                // kExists
};

// An object of the pattern: every field and every $or group must match.
struct FilterNode {
  struct Field {
    std::string key;
    std::vector<FilterMatcher> leaf;    // a leaf array, or
    std::unique_ptr<FilterNode> child;  // a nested object
  };
  std::vector<Field> fields;
  std::vector<std::vector<FilterNode>> ors;
};

namespace {

// The cloud's numeric matching covers this range.
constexpr double kNumericLimit = 5e9;

std::string Shown(const json& v) {
  std::string d = v.dump();
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return d;
}

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument((path.empty() ? std::string("pattern") : "key " + path) + ": " +
                                 what);
}

// A whole string as a finite number ("12", "-1.5e3"; not " 1", "inf", "0x1").
bool ParseNumber(const std::string& s, double* out) {
  if (s.empty()) return false;
  const char c = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.')) {
    return false;
  }
  for (char ch : s) {
    if (ch == 'x' || ch == 'X') return false;
  }
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

bool CharEq(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!CharEq(a[i], b[i])) return false;
  }
  return true;
}

// s starts (at_end: ends) with p.
bool Affix(std::string_view s, std::string_view p, bool at_end, bool ignore_case) {
  if (p.size() > s.size()) return false;
  const std::string_view part = at_end ? s.substr(s.size() - p.size()) : s.substr(0, p.size());
  return ignore_case ? EqualsIgnoreCase(part, p) : part == p;
}

// --- Compiling.

// {"prefix": "s"} / {"suffix": "s"}: a string or {"equals-ignore-case": "s"}.
Status CompileAffix(const std::string& op, const json& v, const std::string& path,
                    FilterMatcher* m) {
  m->op = op == "prefix" ? FilterOp::kPrefix : FilterOp::kSuffix;
  if (v.is_string()) {
    m->text = v.get<std::string>();
    return Status::OK();
  }
  if (v.is_object() && v.size() == 1 && v.contains("equals-ignore-case") &&
      v["equals-ignore-case"].is_string()) {
    m->text = v["equals-ignore-case"].get<std::string>();
    m->ignore_case = true;
    return Status::OK();
  }
  return Bad(path,
             op + ": expected a string or {\"equals-ignore-case\": \"...\"}, got " + Shown(v));
}

Status CompileNumeric(const json& v, const std::string& path, FilterMatcher* m) {
  m->op = FilterOp::kNumeric;
  const std::string expected =
      "numeric: expected [\"<op>\", number] with <op> one of =, <, <=, >, >=, or a range "
      "[\">\" or \">=\", number, \"<\" or \"<=\", number]; got " +
      Shown(v);
  if (!v.is_array() || (v.size() != 2 && v.size() != 4)) return Bad(path, expected);
  static const std::pair<const char*, FilterCmp> kOps[] = {{"=", FilterCmp::kEq},
                                                           {"<", FilterCmp::kLt},
                                                           {"<=", FilterCmp::kLe},
                                                           {">", FilterCmp::kGt},
                                                           {">=", FilterCmp::kGe}};
  for (size_t i = 0; i < v.size(); i += 2) {
    if (!v[i].is_string()) return Bad(path, expected);
    const std::string name = v[i].get<std::string>();
    const auto* it = std::find_if(std::begin(kOps), std::end(kOps),
                                  [&](const auto& o) { return name == o.first; });
    if (it == std::end(kOps)) {
      return Bad(path, "numeric: unknown comparison \"" + name + "\"; expected =, <, <=, > or >=");
    }
    if (!v[i + 1].is_number()) {
      return Bad(path, "numeric: the value after \"" + name + "\" must be a number, got " +
                           Shown(v[i + 1]));
    }
    const double d = v[i + 1].get<double>();
    if (!(std::fabs(d) <= kNumericLimit)) {
      return Bad(path, "numeric: " + Shown(v[i + 1]) +
                           " is outside -5e9..5e9, the range of numeric matching");
    }
    m->bounds.emplace_back(it->second, d);
  }
  if (m->bounds.size() == 2) {
    const FilterCmp lo = m->bounds[0].first, hi = m->bounds[1].first;
    if ((lo != FilterCmp::kGt && lo != FilterCmp::kGe) ||
        (hi != FilterCmp::kLt && hi != FilterCmp::kLe)) {
      return Bad(path,
                 "numeric: a range is a lower bound (> or >=) then an upper bound (< or <=), "
                 "got " +
                     Shown(v));
    }
    if (m->bounds[0].second >= m->bounds[1].second) {
      return Bad(path, "numeric: the lower bound must be below the upper bound, got " + Shown(v));
    }
  }
  return Status::OK();
}

Status CompileAnythingBut(const json& v, const std::string& path, FilterMatcher* m) {
  m->op = FilterOp::kAnythingBut;
  const std::string expected =
      "anything-but: expected a string, a number, a non-empty list of strings or of numbers, "
      "or {\"prefix\" | \"suffix\" | \"equals-ignore-case\": ...}; got " +
      Shown(v);
  if (v.is_string() || v.is_number()) {
    m->values.push_back(v);
    return Status::OK();
  }
  if (v.is_array()) {
    if (v.empty()) return Bad(path, expected);
    const bool strings = v[0].is_string();
    for (const auto& e : v) {
      if (strings ? !e.is_string() : !e.is_number()) return Bad(path, expected);
      m->values.push_back(e);
    }
    return Status::OK();
  }
  if (!v.is_object() || v.size() != 1) return Bad(path, expected);
  const std::string op = v.begin().key();
  const json& arg = v.begin().value();
  if (op == "prefix" || op == "suffix") {
    if (!arg.is_string()) {
      return Bad(path, "anything-but: " + op + ": expected a string, got " + Shown(arg));
    }
    m->but = op == "prefix" ? FilterOp::kPrefix : FilterOp::kSuffix;
    m->text = arg.get<std::string>();
    return Status::OK();
  }
  if (op == "equals-ignore-case") {
    m->but = FilterOp::kEqualsIgnoreCase;
    const json list = arg.is_array() ? arg : json::array({arg});
    for (const auto& e : list) {
      if (!e.is_string()) {
        return Bad(path,
                   "anything-but: equals-ignore-case: expected a string or a list of strings, "
                   "got " +
                       Shown(arg));
      }
      m->values.push_back(e);
    }
    if (m->values.empty()) return Bad(path, expected);
    return Status::OK();
  }
  return Bad(path, expected);
}

Status CompileOperator(const json& o, const std::string& path, FilterMatcher* m) {
  if (o.size() != 1) {
    return Bad(path, "an operator object has exactly one operator, got " + Shown(o));
  }
  const std::string op = o.begin().key();
  const json& v = o.begin().value();
  if (op == "prefix" || op == "suffix") return CompileAffix(op, v, path, m);
  if (op == "numeric") return CompileNumeric(v, path, m);
  if (op == "anything-but") return CompileAnythingBut(v, path, m);
  if (op == "equals-ignore-case") {
    if (!v.is_string()) {
      return Bad(path, "equals-ignore-case: expected a string, got " + Shown(v));
    }
    m->op = FilterOp::kEqualsIgnoreCase;
    m->text = v.get<std::string>();
    return Status::OK();
  }
  if (op == "exists") {
    if (!v.is_boolean()) return Bad(path, "exists: expected true or false, got " + Shown(v));
    m->op = FilterOp::kExists;
    m->exists = v.get<bool>();
    return Status::OK();
  }
  if (op == "wildcard" || op == "cidr") {
    return Bad(path, "operator \"" + op + "\" is not supported by runnel's filters");
  }
  return Bad(path, "unknown operator \"" + op +
                       "\"; expected prefix, suffix, equals-ignore-case, anything-but, numeric "
                       "or exists");
}

Status CompileLeaf(const json& a, const std::string& path, std::vector<FilterMatcher>* leaf) {
  if (a.empty()) return Bad(path, "an empty list matches nothing; give at least one value");
  for (const auto& e : a) {
    FilterMatcher m;
    if (e.is_string() || e.is_number() || e.is_boolean() || e.is_null()) {
      m.value = e;
    } else if (e.is_object()) {
      Status s = CompileOperator(e, path, &m);
      if (!s.ok()) return s;
    } else {
      return Bad(path, "a list of a pattern holds values and operator objects, not lists; got " +
                           Shown(e));
    }
    leaf->push_back(std::move(m));
  }
  return Status::OK();
}

Status CompileObject(const json& o, const std::string& path, FilterNode* node);

Status CompileOr(const json& v, const std::string& path, FilterNode* node) {
  const std::string where = path.empty() ? "$or" : path + ".$or";
  if (!v.is_array() || v.size() < 2) {
    return Bad(where, "expected a list of at least two patterns (objects), got " + Shown(v));
  }
  std::vector<FilterNode> alternatives(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_object()) {
      return Bad(where, "each alternative must be an object, got " + Shown(v[i]));
    }
    Status s = CompileObject(v[i], path, &alternatives[i]);
    if (!s.ok()) return s;
  }
  node->ors.push_back(std::move(alternatives));
  return Status::OK();
}

Status CompileObject(const json& o, const std::string& path, FilterNode* node) {
  if (o.empty()) return Bad(path, "an empty object matches nothing; name at least one field");
  for (const auto& [key, v] : o.items()) {
    if (key == "$or") {
      Status s = CompileOr(v, path, node);
      if (!s.ok()) return s;
      continue;
    }
    const std::string sub = path.empty() ? key : path + "." + key;
    FilterNode::Field f;
    f.key = key;
    Status s;
    if (v.is_object()) {
      f.child = std::make_unique<FilterNode>();
      s = CompileObject(v, sub, f.child.get());
    } else if (v.is_array()) {
      s = CompileLeaf(v, sub, &f.leaf);
    } else {
      s = Bad(sub, "expected a list of values or operators (like [\"INSERT\"]) or an object, got " +
                       Shown(v));
    }
    if (!s.ok()) return s;
    node->fields.push_back(std::move(f));
  }
  return Status::OK();
}

// --- Matching.

// A record value as a number: a JSON number, or a DynamoDB N string.
bool NumberOf(const ojson& v, bool n_strings, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  return n_strings && v.is_string() && ParseNumber(v.get_ref<const std::string&>(), out);
}

bool InBounds(const FilterMatcher& m, double d) {
  for (const auto& [cmp, b] : m.bounds) {
    bool ok = false;
    switch (cmp) {
      case FilterCmp::kEq:
        ok = d == b;
        break;
      case FilterCmp::kLt:
        ok = d < b;
        break;
      case FilterCmp::kLe:
        ok = d <= b;
        break;
      case FilterCmp::kGt:
        ok = d > b;
        break;
      case FilterCmp::kGe:
        ok = d >= b;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

// `v` equals the pattern's string or number `e` (strings as strings, numbers
// as numbers).
bool EqualsValue(const json& e, const ojson& v, bool n_strings) {
  if (e.is_string()) {
    return v.is_string() && v.get_ref<const std::string&>() == e.get_ref<const std::string&>();
  }
  double d;
  return NumberOf(v, n_strings, &d) && d == e.get<double>();
}

bool Listed(const std::vector<json>& values, const ojson& v, bool n_strings) {
  for (const auto& e : values) {
    if (EqualsValue(e, v, n_strings)) return true;
  }
  return false;
}

bool AnythingBut(const FilterMatcher& m, const ojson& v, bool n_strings) {
  switch (m.but) {
    case FilterOp::kPrefix:
    case FilterOp::kSuffix:
      return !(v.is_string() &&
               Affix(v.get_ref<const std::string&>(), m.text, m.but == FilterOp::kSuffix, false));
    case FilterOp::kEqualsIgnoreCase:
      for (const auto& e : m.values) {
        if (v.is_string() &&
            EqualsIgnoreCase(v.get_ref<const std::string&>(), e.get_ref<const std::string&>())) {
          return false;
        }
      }
      return true;
    default:
      return !Listed(m.values, v, n_strings);
  }
}

// `v` is a leaf value of the record (not an object or array).
bool ValueMatches(const FilterMatcher& m, const ojson& v, bool n_strings) {
  switch (m.op) {
    case FilterOp::kExact:
      if (m.value.is_string() || m.value.is_number()) {
        return EqualsValue(m.value, v, n_strings);
      }
      if (m.value.is_boolean()) return v.is_boolean() && v.get<bool>() == m.value.get<bool>();
      return v.is_null();
    case FilterOp::kPrefix:
    case FilterOp::kSuffix:
      return v.is_string() && Affix(v.get_ref<const std::string&>(), m.text,
                                    m.op == FilterOp::kSuffix, m.ignore_case);
    case FilterOp::kEqualsIgnoreCase:
      return v.is_string() && EqualsIgnoreCase(v.get_ref<const std::string&>(), m.text);
    case FilterOp::kAnythingBut:
      return AnythingBut(m, v, n_strings);
    case FilterOp::kNumeric: {
      double d;
      return NumberOf(v, n_strings, &d) && InBounds(m, d);
    }
    case FilterOp::kExists:
      return false;  // decided by LeafMatches
  }
  return false;
}

// The leaf values at a path: the value itself, or an array's scalar
// elements; objects are not leaves.
template <typename F>
bool AnyLeaf(const ojson* v, F&& f) {
  if (v == nullptr || v->is_object()) return false;
  if (!v->is_array()) return f(*v);
  for (const auto& e : *v) {
    if (!e.is_object() && !e.is_array() && f(e)) return true;
  }
  return false;
}

bool LeafMatches(const std::vector<FilterMatcher>& leaf, const ojson* v, bool n_strings) {
  for (const FilterMatcher& m : leaf) {
    if (m.op == FilterOp::kExists) {
      const bool present = AnyLeaf(v, [](const ojson&) { return true; });
      if (present == m.exists) return true;
      continue;
    }
    if (AnyLeaf(v, [&](const ojson& e) { return ValueMatches(m, e, n_strings); })) return true;
  }
  return false;
}

bool NodeMatches(const FilterNode& node, const ojson* v);

bool FieldMatches(const FilterNode::Field& f, const ojson* sub) {
  if (!f.child) return LeafMatches(f.leaf, sub, f.key == "N" || f.key == "NS");
  if (sub != nullptr && sub->is_array()) {
    // An array of objects: some element matches the nested pattern.
    bool objects = false;
    for (const auto& e : *sub) {
      if (!e.is_object()) continue;
      objects = true;
      if (NodeMatches(*f.child, &e)) return true;
    }
    return !objects && NodeMatches(*f.child, nullptr);
  }
  return NodeMatches(*f.child, sub != nullptr && sub->is_object() ? sub : nullptr);
}

bool NodeMatches(const FilterNode& node, const ojson* v) {
  for (const auto& f : node.fields) {
    const ojson* sub = nullptr;
    if (v != nullptr) {
      const auto it = v->find(f.key);
      if (it != v->end()) sub = &*it;
    }
    if (!FieldMatches(f, sub)) return false;
  }
  for (const auto& alternatives : node.ors) {
    bool any = false;
    for (const auto& alt : alternatives) {
      if (NodeMatches(alt, v)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

FilterPattern::FilterPattern() = default;
FilterPattern::~FilterPattern() = default;
FilterPattern::FilterPattern(FilterPattern&&) noexcept = default;
FilterPattern& FilterPattern::operator=(FilterPattern&&) noexcept = default;

Status FilterPattern::Compile(std::string_view text, FilterPattern* out) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("pattern: not valid JSON");
  if (!j.is_object()) {
    return Status::InvalidArgument("pattern: expected a JSON object, got " + Shown(j));
  }
  auto root = std::make_unique<FilterNode>();
  Status s = CompileObject(j, "", root.get());
  if (!s.ok()) return s;
  out->root_ = std::move(root);
  return Status::OK();
}

bool FilterPattern::Matches(const ojson& record) const {
  return root_ != nullptr && record.is_object() && NodeMatches(*root_, &record);
}

Status FilterSet::Compile(const std::vector<std::string>& patterns, FilterSet* out) {
  if (patterns.size() > kMaxFilters) {
    return Status::InvalidArgument("FilterCriteria: at most " + std::to_string(kMaxFilters) +
                                   " filters, got " + std::to_string(patterns.size()));
  }
  FilterSet set;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const std::string where = "FilterCriteria.Filters[" + std::to_string(i) + "].Pattern: ";
    if (patterns[i].size() > kMaxFilterPatternLength) {
      return Status::InvalidArgument(where + std::to_string(patterns[i].size()) +
                                     " characters; the limit is " +
                                     std::to_string(kMaxFilterPatternLength));
    }
    FilterPattern p;
    Status s = FilterPattern::Compile(patterns[i], &p);
    if (!s.ok()) return Status::InvalidArgument(where + s.message());
    set.patterns_.push_back(std::move(p));
  }
  *out = std::move(set);
  return Status::OK();
}

bool FilterSet::Matches(const ojson& record) const {
  if (patterns_.empty()) return true;
  for (const auto& p : patterns_) {
    if (p.Matches(record)) return true;
  }
  return false;
}

Status ValidateFilterPatterns(const std::vector<std::string>& patterns) {
  FilterSet set;
  return FilterSet::Compile(patterns, &set);
}

}  // namespace runnel
