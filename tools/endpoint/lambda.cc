// Copyright 2026 The runnel Authors.
//
// Lambda's REST API: not served yet; every path is UnknownOperationException.

#include "tools/endpoint/endpoint.h"

namespace runnel::endpoint {

HttpResponse ServeLambda(ServiceContext&, const HttpRequest& request) {
  return RestError(404, "UnknownOperationException",
                   "Operation not served: " + request.method + " " + request.path);
}

}  // namespace runnel::endpoint
