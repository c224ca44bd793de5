// Copyright 2026 The runnel Authors.
//
// DynamoDB over JSON: not served yet; every operation is UnknownOperationException.

#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint {

HttpResponse ServeDynamoDB(ServiceContext&, std::string_view op, const HttpRequest&) {
  return JsonError(400, "com.amazon.coral.service", "UnknownOperationException",
                   "Operation not served: " + std::string(op));
}

}  // namespace runnel::endpoint
