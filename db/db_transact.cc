// Copyright 2026 The runnel Authors.
//
// TransactWriteItems: up to 100 actions across tables, all or nothing, as
// one log frame. The commit leader decides every action against the items
// as they are at commit time; if any fails, nothing is written and each
// action gets its cancellation reason.
//
// ClientRequestToken: the results of successful transactions are kept in
// memory for 10 minutes under their token with a hash of the request. A
// retry with the same token and request returns the first result without
// writing; the same token with another request is InvalidArgument
// (IdempotentParameterMismatch); a retry while the first call is still
// committing is Busy (TransactionInProgressException). Tokens do not survive
// a restart.

#include <xxhash.h>

#include <algorithm>
#include <set>

#include "db/db_impl.h"
#include "db/db_items_write.h"
#include "util/clock.h"

namespace runnel {
namespace {

constexpr int64_t kTokenLifetimeMicros = 10 * 60 * 1000000LL;
constexpr size_t kMaxTokenBytes = 36;

void AppendField(std::string_view s, std::string* out) {
  out->append(std::to_string(s.size()));
  out->push_back(':');
  out->append(s);
}

// A hash of everything that makes the request what it is (not `sync`).
std::string RequestHash(const TransactWriteItemsRequest& request) {
  std::string canon;
  for (const TransactWriteItem& a : request.transact_items) {
    canon.push_back(static_cast<char>('0' + static_cast<int>(a.kind)));
    AppendField(a.table_name, &canon);
    AppendField(ItemToJson(a.item), &canon);
    AppendField(ItemToJson(a.key), &canon);
    AppendField(a.update_expression, &canon);
    AppendField(a.condition_expression, &canon);
    for (const auto& [k, v] : a.expression_attribute_names) {
      AppendField(k, &canon);
      AppendField(v, &canon);
    }
    canon.push_back('|');
    AppendField(ItemToJson(a.expression_attribute_values), &canon);
    canon.push_back(a.return_old_on_condition_failure ? '1' : '0');
  }
  const XXH128_hash_t h = XXH3_128bits(canon.data(), canon.size());
  return std::to_string(h.high64) + "." + std::to_string(h.low64);
}

items::PreparedWrite::Kind KindOf(TransactWriteItem::Kind k) {
  switch (k) {
    case TransactWriteItem::Kind::kPut:
      return items::PreparedWrite::Kind::kPut;
    case TransactWriteItem::Kind::kUpdate:
      return items::PreparedWrite::Kind::kUpdate;
    case TransactWriteItem::Kind::kDelete:
      return items::PreparedWrite::Kind::kDelete;
    case TransactWriteItem::Kind::kConditionCheck:
      break;
  }
  return items::PreparedWrite::Kind::kConditionCheck;
}

// Validates and parses every action before anything is queued.
Status PrepareActions(const Catalog& cat, const TransactWriteItemsRequest& request,
                      std::vector<items::PreparedWrite>* prepared) {
  const size_t n = request.transact_items.size();
  if (n == 0 || n > kMaxTransactItems) {
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
        "Member must have length between 1 and 100, got " +
        std::to_string(n));
  }
  prepared->resize(n);
  std::set<std::pair<std::string, std::string>> keys;
  for (size_t i = 0; i < n; ++i) {
    const TransactWriteItem& a = request.transact_items[i];
    const std::string where = "TransactItems[" + std::to_string(i) + "]";
    const log::TableEntryData* t = nullptr;
    Status s = items::FindTypedTable(cat, a.table_name, &t);
    if (!s.ok()) return s.WithContext(where);
    const bool put = a.kind == TransactWriteItem::Kind::kPut;
    items::PreparedWrite& p = (*prepared)[i];
    s = items::PrepareWrite(*t, KindOf(a.kind), put ? a.item : a.key, a, a.condition_expression,
                            a.update_expression, &p);
    if (!s.ok()) return s.WithContext(where);
    p.return_old_on_condition_failure = a.return_old_on_condition_failure;
    if (!keys.emplace(a.table_name, p.key).second) {
      return Status::InvalidArgument(
          "Transaction request cannot include multiple operations on one item");
    }
  }
  return Status::OK();
}

// One reason per action, in the cloud's codes.
void FillReasons(const std::vector<Status>& statuses, std::vector<items::PreparedWrite>* prepared,
                 std::vector<CancellationReason>* reasons, std::string* codes) {
  reasons->clear();
  for (size_t i = 0; i < statuses.size(); ++i) {
    const Status& st = statuses[i];
    CancellationReason r;
    if (st.ok()) {
      r.code = "None";
    } else if (st.IsConditionalCheckFailed()) {
      r.code = "ConditionalCheckFailed";
      r.message = "The conditional request failed";
      if (i < prepared->size()) r.item = std::move((*prepared)[i].failed_item);
    } else {
      r.code = "ValidationError";
      r.message = st.message();
    }
    *codes += (i == 0 ? "" : ", ") + r.code;
    reasons->push_back(std::move(r));
  }
}

}  // namespace

Status DBImpl::TransactWriteItems(const TransactWriteItemsRequest& request,
                                  TransactWriteItemsResult* result) {
  Status s = CheckOpen();
  if (!s.ok()) return s;
  TransactWriteItemsResult local;
  if (result == nullptr) result = &local;
  *result = TransactWriteItemsResult();
  const std::string& token = request.client_request_token;
  if (token.size() > kMaxTokenBytes) {
    return Status::InvalidArgument("ClientRequestToken: must be at most 36 characters");
  }
  std::string hash;
  if (!token.empty()) {
    hash = RequestHash(request);
    MutexLock lock(&token_mu_);
    const int64_t now = NowMicros(env_);
    std::erase_if(tokens_, [now](const auto& e) { return e.second.expires_micros <= now; });
    auto it = tokens_.find(token);
    if (it != tokens_.end()) {
      if (it->second.request_hash != hash) {
        return Status::InvalidArgument(
            "IdempotentParameterMismatch: the ClientRequestToken was used with a different "
            "request within the last 10 minutes");
      }
      if (it->second.in_progress) {
        return Status::Busy(
            "TransactionInProgressException: the transaction with the given request token is "
            "already in progress");
      }
      *result = it->second.result;
      return it->second.status;
    }
    // Claimed before the commit, so that a concurrent retry with the same
    // token cannot commit the transaction a second time.
    TokenEntry& claimed = tokens_[token];
    claimed.request_hash = hash;
    claimed.expires_micros = now + kTokenLifetimeMicros;
    claimed.in_progress = true;
  }
  bool committed = false;
  s = CommitTransaction(request, result, &committed);
  if (!token.empty()) {
    // Only a committed transaction keeps its token: any other outcome frees
    // it for a retry.
    MutexLock lock(&token_mu_);
    if (committed) {
      tokens_[token] = TokenEntry{hash, NowMicros(env_) + kTokenLifetimeMicros, s, *result, false};
    } else {
      tokens_.erase(token);
    }
  }
  return s;
}

Status DBImpl::CommitTransaction(const TransactWriteItemsRequest& request,
                                 TransactWriteItemsResult* result, bool* committed) {
  std::vector<items::PreparedWrite> prepared;
  Status s = PrepareActions(*catalog(), request, &prepared);
  if (!s.ok()) return s;
  std::vector<ItemMutation> mutations;
  mutations.reserve(prepared.size());
  for (items::PreparedWrite& p : prepared) mutations.push_back(p.Mutation());
  std::vector<Status> statuses;
  CommitInfo info;
  s = CommitItems(mutations, request.sync, false, &statuses, &info);
  if (s.ok()) {
    result->first_sequence = info.first_sequence;
    *committed = true;
    return s;
  }
  // A failure of the leader's decision, not of the log: the action statuses
  // say which.
  const bool decided =
      statuses.size() == prepared.size() &&
      std::any_of(statuses.begin(), statuses.end(), [](const Status& st) { return !st.ok(); });
  if (decided) {
    std::string codes;
    FillReasons(statuses, &prepared, &result->cancellation_reasons, &codes);
    return Status::TransactionCanceled(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [" + codes +
        "]");
  }
  return s;
}

}  // namespace runnel
