#include "control/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbg::control {

namespace {
// Backups come back in one answer; anything beyond this is not a response of ours.
constexpr size_t kMaxResponseBytes = 512u << 20;
}  // namespace

Result<Client> Client::connect(const std::string& socketPath) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.empty() || socketPath.size() >= sizeof(addr.sun_path)) {
    return Error{"socket path empty or too long", socketPath};
  }
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const Error e{std::string("cannot connect: ") + std::strerror(errno), socketPath};
    ::close(fd);
    return e;
  }
  return Client(fd);
}

int Client::serverPid() const {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) return -1;
  return cred.pid > 0 ? cred.pid : -1;
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Response> Client::call(const Request& request, int passFd) {
  const std::string line = encodeRequest(request);
  size_t done = 0;
  bool fdSent = passFd < 0;
  while (done < line.size()) {
    iovec iov{const_cast<char*>(line.data() + done), line.size() - done};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (!fdSent) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* cm = CMSG_FIRSTHDR(&msg);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cm), &passFd, sizeof(int));
    }
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("send: ") + std::strerror(errno)};
    }
    fdSent = true;
    done += static_cast<size_t>(n);
  }
  for (;;) {
    const size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      const std::string answer = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return parseResponse(answer);
    }
    if (buffered_.size() > kMaxResponseBytes) return Error{"response too large"};
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("receive: ") + std::strerror(errno)};
    }
    if (n == 0) return Error{"server closed the connection without an answer"};
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace lbg::control
