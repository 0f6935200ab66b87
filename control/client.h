#pragma once

#include <string>

#include "control/api.h"
#include "policy/base/result.h"

namespace lbg::control {

// lbgctl's side of the socket: one blocking connection, one request at a time.
class Client {
 public:
  static Result<Client> connect(const std::string& socketPath);
  Client(Client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Client& operator=(Client&&) = delete;
  ~Client();

  // Sends the request (with `passFd` attached via SCM_RIGHTS when >= 0) and reads the answer.
  // Transport failures are errors; a refusal by the server is a Response with ok == false.
  Result<Response> call(const Request& request, int passFd = -1);

  // The process id of the server at the other end (SO_PEERCRED: fixed when it listened), or -1.
  // lbg-ha-watch waits on it to see the gateway die the moment it does.
  int serverPid() const;

 private:
  explicit Client(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string buffered_;
};

}  // namespace lbg::control
