// Copyright 2026 The runnel Authors.

#include "runnel/change.h"

namespace runnel {

std::string_view StreamViewTypeName(StreamViewType type) {
  switch (type) {
    case StreamViewType::kKeysOnly:
      return "KEYS_ONLY";
    case StreamViewType::kNewImage:
      return "NEW_IMAGE";
    case StreamViewType::kOldImage:
      return "OLD_IMAGE";
    case StreamViewType::kNewAndOldImages:
      return "NEW_AND_OLD_IMAGES";
  }
  return "UNKNOWN";
}

bool ParseStreamViewType(std::string_view name, StreamViewType* type) {
  for (auto t : {StreamViewType::kKeysOnly, StreamViewType::kNewImage, StreamViewType::kOldImage,
                 StreamViewType::kNewAndOldImages}) {
    if (StreamViewTypeName(t) == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

std::string_view EventNameString(EventName event) {
  switch (event) {
    case EventName::kInsert:
      return "INSERT";
    case EventName::kModify:
      return "MODIFY";
    case EventName::kRemove:
      return "REMOVE";
  }
  return "UNKNOWN";
}

}  // namespace runnel
