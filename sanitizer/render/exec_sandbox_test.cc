// The exec sandbox that runs LibreOffice: exit codes come back, the deadline kills, the network is
// out of reach (no AF_INET sockets, own empty network namespace), AF_UNIX still works, the file
// size limit holds and nothing of the caller's environment leaks in.
#include "sanitizer/render/exec_sandbox.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

namespace lbg::sanitizer::render {
namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  bool ran = false;
  int exitCode = -1;
  std::string reason;
};

Result run(std::vector<std::string> argv, std::chrono::seconds budget = std::chrono::seconds(60),
        uint64_t maxFileBytes = 64 << 20) {
  static std::string dir = [] {
    char pattern[] = "/tmp/lbg-exec-test-XXXXXX";
    return std::string(mkdtemp(pattern));
  }();
  ExecSpec spec;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/bin:/bin", "HOME=" + dir};
  spec.workDir = dir;
  spec.deadline = Clock::now() + budget;
  spec.maxFileBytes = maxFileBytes;
  Result r;
  r.ran = runSandboxedExec(spec, &r.exitCode, &r.reason);
  return r;
}

TEST(ExecSandbox, ExitCodeComesBack) {
  Result r = run({"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(r.ran) << r.reason;
  EXPECT_EQ(r.exitCode, 7);
}

TEST(ExecSandbox, DeadlineKillsTheProcessGroup) {
  auto start = Clock::now();
  // The shell's child keeps running after the shell: the whole group must go.
  Result r = run({"/bin/sh", "-c", "sleep 60 & sleep 60"}, std::chrono::seconds(1));
  EXPECT_FALSE(r.ran);
  EXPECT_EQ(r.reason, "limit:timeout");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
}

TEST(ExecSandbox, NoNetworkButUnixSockets) {
  Result inet = run({"/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)"});
  ASSERT_TRUE(inet.ran) << inet.reason;
  EXPECT_NE(inet.exitCode, 0);
  Result inet6 = run({"/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"});
  ASSERT_TRUE(inet6.ran) << inet6.reason;
  EXPECT_NE(inet6.exitCode, 0);
  Result unix = run({"/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)"});
  ASSERT_TRUE(unix.ran) << unix.reason;
  EXPECT_EQ(unix.exitCode, 0);
  // Only the loopback interface exists in the namespace (/proc/self/net follows the network
  // namespace; /sys/class/net would show the mounter's).
  Result ifaces = run({"/bin/sh", "-c", "test \"$(tail -n +3 /proc/self/net/dev | cut -d: -f1 | tr -d ' \\n')\" = lo"});
  ASSERT_TRUE(ifaces.ran) << ifaces.reason;
  EXPECT_EQ(ifaces.exitCode, 0);
}

TEST(ExecSandbox, FileSizeLimitAndCleanEnvironment) {
  Result big = run({"/bin/sh", "-c", "head -c 3000000 /dev/zero > big.bin"}, std::chrono::seconds(60), 1 << 20);
  EXPECT_FALSE(big.ran && big.exitCode == 0);
  setenv("LBG_EXEC_TEST_SECRET", "x", 1);
  Result env = run({"/bin/sh", "-c", "test -z \"$LBG_EXEC_TEST_SECRET\""});
  ASSERT_TRUE(env.ran) << env.reason;
  EXPECT_EQ(env.exitCode, 0);
}

TEST(ExecSandbox, PtraceAndMountRefused) {
  // unshare(1) needs unshare(2), which the filter refuses.
  Result r = run({"/usr/bin/unshare", "--mount", "true"});
  ASSERT_TRUE(r.ran) << r.reason;
  EXPECT_NE(r.exitCode, 0);
}

}  // namespace
}  // namespace lbg::sanitizer::render
