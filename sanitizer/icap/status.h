#pragma once

#include <string_view>

namespace lbg::icap {

// ICAP status codes this service sends (RFC 3507 4.3.3).
enum class Status : int {
  Continue = 100,
  Ok = 200,
  NoContent = 204,
  BadRequest = 400,
  ServiceNotFound = 404,
  MethodNotAllowed = 405,
  RequestTimeout = 408,
  ServerError = 500,
  NotImplemented = 501,
  ServiceOverloaded = 503,
  VersionNotSupported = 505,
};

std::string_view reasonPhrase(Status s);

}  // namespace lbg::icap
