// lbg-ha-watch: tells keepalived the moment the gateway of this box dies.
//
// keepalived polls the gateway's health (`lbgctl ha health`, a vrrp_script) at most once a second,
// so a killed active would go on advertising for up to a second and the takeover would take over
// one. This watcher asks the gateway's control socket once for its health and its process id
// (SO_PEERCRED), then sleeps on a pidfd of that process: the kernel wakes it when the process
// exits, whatever killed it. It then writes 1 to keepalived's track file (inotify: keepalived reads
// it at once and the instance goes to FAULT, advertising priority 0, so the peer takes over within
// one skew time), and 0 again once a gateway answers healthy. What the track script checks while
// the gateway lives (workers, links, policy, log) stays the track script's job.
//
//   lbg-ha-watch --socket /run/lbg/control.sock --alive-file /run/keepalived/lbg-alive
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <boost/program_options.hpp>

#include "control/api.h"
#include "control/client.h"

namespace {

namespace po = boost::program_options;
using lbg::control::Client;
using lbg::control::Request;

// Writes the whole value and closes: keepalived re-reads the file on IN_CLOSE_WRITE.
bool writeAlive(const std::string& path, bool dead) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::cerr << "lbg-ha-watch: " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  const char* value = dead ? "1\n" : "0\n";
  const bool ok = ::write(fd, value, 2) == 2;
  ::close(fd);
  return ok;
}

// The gateway's process id when it answers its health check healthy, else -1.
int healthyGatewayPid(const std::string& socket) {
  auto client = Client::connect(socket);
  if (!client) return -1;
  Request request;
  request.cmd = "ha.health";
  auto response = client->call(request);
  if (!response || !response->ok || !response->result.value("healthy", false)) return -1;
  return client->serverPid();
}

int pidfdOpen(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/lbg/control.sock";
  std::string aliveFile;
  int retryMs = 100;
  po::options_description options("lbg-ha-watch options");
  options.add_options()
      ("help,h", "this text")
      ("socket", po::value(&socket), "the gateway's control socket (default /run/lbg/control.sock)")
      ("alive-file", po::value(&aliveFile)->required(), "keepalived's track file: 0 alive, 1 dead")
      ("retry-ms", po::value(&retryMs), "while no healthy gateway answers, ask again every N ms (default 100)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << "lbg-ha-watch: writes 1 to keepalived's track file the moment the gateway exits, 0 once it "
                   "answers healthy\n"
                << options;
      return 0;
    }
    po::notify(vm);
    if (retryMs < 10 || retryMs > 10'000) throw po::error("--retry-ms must be 10..10000");
  } catch (const po::error& e) {
    std::cerr << "lbg-ha-watch: " << e.what() << "\n";
    return 2;
  }

  // It lives as long as the notify script that started it (keepalived's FIFO reader), never longer.
  const pid_t parent = ::getppid();
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) return 1;
  // Dead until a healthy gateway is seen: never report alive on a guess.
  if (!writeAlive(aliveFile, true)) return 1;
  for (;;) {
    const int pid = healthyGatewayPid(socket);
    const int pidfd = pid > 0 ? pidfdOpen(pid) : -1;
    if (pidfd < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(retryMs));
      continue;
    }
    if (!writeAlive(aliveFile, false)) return 1;
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    ::close(pidfd);
    std::fprintf(stderr, "lbg-ha-watch: gateway (pid %d) exited\n", pid);
    if (!writeAlive(aliveFile, true)) return 1;
  }
}
