#include "sanitizer/icap/status.h"

namespace lbg::icap {

std::string_view reasonPhrase(Status s) {
  switch (s) {
    case Status::Continue:
      return "Continue";
    case Status::Ok:
      return "OK";
    case Status::NoContent:
      return "No Content";
    case Status::BadRequest:
      return "Bad Request";
    case Status::ServiceNotFound:
      return "ICAP Service Not Found";
    case Status::MethodNotAllowed:
      return "Method Not Allowed For Service";
    case Status::RequestTimeout:
      return "Request Timeout";
    case Status::ServerError:
      return "Server Error";
    case Status::NotImplemented:
      return "Method Not Implemented";
    case Status::ServiceOverloaded:
      return "Service Overloaded";
    case Status::VersionNotSupported:
      return "ICAP Version Not Supported";
  }
  return "Unknown";
}

}  // namespace lbg::icap
