// Copyright 2026 The runnel Authors.
//
// Update actions and projections. As in the cloud, every SET right-hand
// side is computed from the item as it was before the update (so
// `SET a = b, b = a` swaps), then SET, REMOVE, ADD and DELETE apply in that
// order. REMOVEs of several elements of one list name the elements of the
// original list: they apply from the highest index down.

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "db/items/expression_ast.h"
#include "db/items/number.h"
#include "db/items/value.h"

namespace runnel::items {
namespace expr {
namespace {

using Type = AttributeValue::Type;

constexpr std::string_view kBadType =
    "An operand in the update expression has an incorrect data type";
constexpr std::string_view kBadPath =
    "The document path provided in the update expression is invalid for update";
constexpr std::string_view kMissing =
    "The provided expression refers to an attribute that does not exist in the item";

bool IsSet(Type t) { return t == Type::kSS || t == Type::kNS || t == Type::kBS; }

// The value at the first `len` elements of `path`, or null.
AttributeValue* LookupMutable(Item* item, const Path& path, size_t len) {
  auto it = item->find(path.front().name);
  if (it == item->end()) return nullptr;
  AttributeValue* v = &it->second;
  for (size_t i = 1; i < len && v != nullptr; ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      v = v->type == Type::kL && e.index < v->list.size() ? &v->list[e.index] : nullptr;
    } else if (v->type == Type::kM) {
      auto m = v->map.find(e.name);
      v = m == v->map.end() ? nullptr : &m->second;
    } else {
      v = nullptr;
    }
  }
  return v;
}

Status Arithmetic(Operand::Kind kind, const AttributeValue& a, const AttributeValue& b,
                  AttributeValue* out) {
  if (a.type != Type::kN || b.type != Type::kN) return Status::InvalidArgument(kBadType);
  Number x, y, result;
  Status s = Number::Parse(a.scalar, &x);
  if (s.ok()) s = Number::Parse(b.scalar, &y);
  if (s.ok()) {
    s = kind == Operand::Kind::kMinus ? Number::Subtract(x, y, &result)
                                      : Number::Add(x, y, &result);
  }
  if (!s.ok()) return s;
  *out = AttributeValue::N(result.ToString());
  return Status::OK();
}

// The value of a SET right-hand side against `item`.
Status Compute(const Operand& o, const Item& item, AttributeValue* out) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      *out = o.value;
      return Status::OK();
    case Operand::Kind::kIfNotExists: {
      const AttributeValue* v = Lookup(item, o.path);
      if (v != nullptr) {
        *out = *v;
        return Status::OK();
      }
      return Compute(o.args[0], item, out);
    }
    case Operand::Kind::kListAppend:
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      AttributeValue a, b;
      Status s = Compute(o.args[0], item, &a);
      if (s.ok()) s = Compute(o.args[1], item, &b);
      if (!s.ok()) return s;
      if (o.kind != Operand::Kind::kListAppend) return Arithmetic(o.kind, a, b, out);
      if (a.type != Type::kL || b.type != Type::kL) return Status::InvalidArgument(kBadType);
      a.list.insert(a.list.end(), std::make_move_iterator(b.list.begin()),
                    std::make_move_iterator(b.list.end()));
      *out = std::move(a);
      return Status::OK();
    }
    default: {
      const AttributeValue* v = Lookup(item, o.path);
      if (v == nullptr) return Status::InvalidArgument(kMissing);
      *out = *v;
      return Status::OK();
    }
  }
}

// Stores `value` at `path`: the parent must exist and be a map (for a name)
// or a list (for an index; an index past the end appends).
Status SetAt(Item* item, const Path& path, AttributeValue value) {
  if (path.size() == 1) {
    (*item)[path.front().name] = std::move(value);
    return Status::OK();
  }
  AttributeValue* parent = LookupMutable(item, path, path.size() - 1);
  const PathElement& last = path.back();
  if (parent == nullptr) return Status::InvalidArgument(kBadPath);
  if (last.is_index) {
    if (parent->type != Type::kL) return Status::InvalidArgument(kBadPath);
    if (last.index < parent->list.size()) {
      parent->list[last.index] = std::move(value);
    } else {
      parent->list.push_back(std::move(value));
    }
    return Status::OK();
  }
  if (parent->type != Type::kM) return Status::InvalidArgument(kBadPath);
  parent->map[last.name] = std::move(value);
  return Status::OK();
}

// Removes what `path` names, if it exists.
void RemoveAt(Item* item, const Path& path) {
  if (path.size() == 1) {
    item->erase(path.front().name);
    return;
  }
  AttributeValue* parent = LookupMutable(item, path, path.size() - 1);
  if (parent == nullptr) return;
  const PathElement& last = path.back();
  if (last.is_index && parent->type == Type::kL && last.index < parent->list.size()) {
    parent->list.erase(parent->list.begin() + last.index);
  } else if (!last.is_index && parent->type == Type::kM) {
    parent->map.erase(last.name);
  }
}

bool SameElement(Type set, const std::string& a, const std::string& b) {
  if (set != Type::kNS) return a == b;
  return CompareScalars(AttributeValue::N(a), AttributeValue::N(b)) == 0;
}

bool SetHas(const AttributeValue& set, const std::string& element) {
  return std::any_of(set.set.begin(), set.set.end(),
                     [&](const std::string& e) { return SameElement(set.type, e, element); });
}

Status Add(Item* item, const UpdateAction& a) {
  const AttributeValue& value = a.value.value;
  AttributeValue* target = LookupMutable(item, a.path, a.path.size());
  if (target == nullptr) return SetAt(item, a.path, value);
  if (target->type == Type::kN && value.type == Type::kN) {
    return Arithmetic(Operand::Kind::kPlus, *target, value, target);
  }
  if (!IsSet(target->type) || target->type != value.type) {
    return Status::InvalidArgument(kBadType);
  }
  for (const std::string& e : value.set) {
    if (!SetHas(*target, e)) target->set.push_back(e);
  }
  SortSet(target);
  return Status::OK();
}

Status Delete(Item* item, const UpdateAction& a) {
  const AttributeValue& value = a.value.value;
  AttributeValue* target = LookupMutable(item, a.path, a.path.size());
  if (target == nullptr) return Status::OK();
  if (target->type != value.type) return Status::InvalidArgument(kBadType);
  auto& elements = target->set;
  elements.erase(std::remove_if(elements.begin(), elements.end(),
                                [&](const std::string& e) { return SetHas(value, e); }),
                 elements.end());
  // The cloud has no empty sets: the attribute goes.
  if (elements.empty()) RemoveAt(item, a.path);
  return Status::OK();
}

// Path order with indexes compared as numbers (for REMOVE's order).
bool PathLess(const Path* a, const Path* b) {
  for (size_t i = 0; i < a->size() && i < b->size(); ++i) {
    const PathElement& x = (*a)[i];
    const PathElement& y = (*b)[i];
    if (x.is_index != y.is_index) return x.is_index < y.is_index;
    if (x.is_index ? x.index != y.index : x.name != y.name) {
      return x.is_index ? x.index < y.index : x.name < y.name;
    }
  }
  return a->size() < b->size();
}

}  // namespace

Status ApplyActions(const std::vector<UpdateAction>& actions, Item* item) {
  std::vector<AttributeValue> values(actions.size());
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].kind != UpdateAction::Kind::kSet) continue;
    Status s = Compute(actions[i].value, *item, &values[i]);
    if (!s.ok()) return s;
  }
  std::vector<const Path*> removes;
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i].kind == UpdateAction::Kind::kSet) {
      Status s = SetAt(item, actions[i].path, std::move(values[i]));
      if (!s.ok()) return s;
    } else if (actions[i].kind == UpdateAction::Kind::kRemove) {
      removes.push_back(&actions[i].path);
    }
  }
  std::sort(removes.begin(), removes.end(), PathLess);
  for (auto it = removes.rbegin(); it != removes.rend(); ++it) RemoveAt(item, **it);
  for (const UpdateAction& a : actions) {
    Status s = a.kind == UpdateAction::Kind::kAdd      ? Add(item, a)
               : a.kind == UpdateAction::Kind::kDelete ? Delete(item, a)
                                                       : Status::OK();
    if (!s.ok()) return s;
  }
  return Status::OK();
}

namespace {

// The projected paths as a tree: a node either takes its whole value or
// selects map keys / list indexes below it.
struct ProjectionNode {
  bool whole = false;
  std::map<std::string, ProjectionNode> names;
  std::map<uint32_t, ProjectionNode> indexes;
};

bool ProjectValue(const AttributeValue& v, const ProjectionNode& n, AttributeValue* out) {
  if (n.whole) {
    *out = v;
    return true;
  }
  if (v.type == Type::kM && !n.names.empty()) {
    *out = AttributeValue::M({});
    for (const auto& [name, child] : n.names) {
      auto it = v.map.find(name);
      AttributeValue projected;
      if (it != v.map.end() && ProjectValue(it->second, child, &projected)) {
        out->map.emplace(name, std::move(projected));
      }
    }
    return !out->map.empty();
  }
  if (v.type == Type::kL && !n.indexes.empty()) {
    *out = AttributeValue::L({});
    for (const auto& [index, child] : n.indexes) {
      AttributeValue projected;
      if (index < v.list.size() && ProjectValue(v.list[index], child, &projected)) {
        out->list.push_back(std::move(projected));
      }
    }
    return !out->list.empty();
  }
  return false;
}

}  // namespace
}  // namespace expr

void Project(const Item& item, const std::vector<Path>& paths, Item* out) {
  expr::ProjectionNode root;
  for (const Path& path : paths) {
    expr::ProjectionNode* n = &root;
    for (const PathElement& e : path) n = e.is_index ? &n->indexes[e.index] : &n->names[e.name];
    n->whole = true;
  }
  out->clear();
  for (const auto& [name, child] : root.names) {
    auto it = item.find(name);
    AttributeValue projected;
    if (it != item.end() && expr::ProjectValue(it->second, child, &projected)) {
      out->emplace(name, std::move(projected));
    }
  }
}

}  // namespace runnel::items
