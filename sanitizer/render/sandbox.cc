#include "sanitizer/render/sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <vector>

namespace lbg::sanitizer::render {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// Syscalls the renderer never needs and an exploit always wants. A deny list (answered with
// EPERM) rather than an allow list: poppler, fontconfig and the allocator use a long and
// version-dependent tail of harmless syscalls, and a missing one would break rendering, not an
// attack.
bool installSeccomp() {
  static const int kDenied[] = {
      SYS_execve,  SYS_execveat, SYS_fork,       SYS_vfork,   SYS_clone,       SYS_clone3,
      SYS_socket,  SYS_socketpair, SYS_connect,  SYS_bind,    SYS_listen,      SYS_accept,
      SYS_accept4, SYS_sendto,   SYS_sendmsg,    SYS_ptrace,  SYS_process_vm_writev,
      SYS_process_vm_readv, SYS_kill, SYS_tkill, SYS_mount,   SYS_umount2,     SYS_unshare,
      SYS_setns,   SYS_keyctl,   SYS_add_key,    SYS_request_key, SYS_bpf,     SYS_perf_event_open,
      SYS_userfaultfd, SYS_io_uring_setup, SYS_chmod, SYS_fchmod, SYS_unlink, SYS_unlinkat,
      SYS_rename, SYS_renameat, SYS_renameat2, SYS_symlink, SYS_symlinkat, SYS_link, SYS_linkat};
  std::vector<sock_filter> prog;
  // Wrong architecture: kill (syscall numbers would mean something else).
  prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  // x32 ABI syscalls carry bit 30: refuse them all.
  prog.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  for (int nr : kDenied) {
    prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1));
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0;
}

[[noreturn]] void childMain(int fd, const std::function<bool(const std::function<bool(std::string_view)>&)>& work,
                            const SandboxLimits& limits) {
  if (!enterSandbox(fd, limits)) ::_exit(3);
  bool ok = work([](std::string_view bytes) { return writeAll(kSandboxFd, bytes); });
  ::_exit(ok ? 0 : 1);
}

}  // namespace

bool enterSandbox(int fd, const SandboxLimits& limits) {
  // Only the channel to the parent stays open.
  if (fd != kSandboxFd) {
    if (::dup2(fd, kSandboxFd) < 0) return false;
  }
  ::syscall(SYS_close_range, static_cast<unsigned>(kSandboxFd + 1), ~0u, 0u);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }
  // A network namespace of our own (no interfaces) where unprivileged user namespaces are allowed;
  // the seccomp filter refuses sockets either way.
  ::unshare(CLONE_NEWUSER | CLONE_NEWNET);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(limits.deadline - std::chrono::steady_clock::now());
  rlim_t cpu = static_cast<rlim_t>(std::max<int64_t>(1, seconds.count() + 1));
  rlimit r{cpu, cpu};
  ::setrlimit(RLIMIT_CPU, &r);
  r = {0, 0};
  ::setrlimit(RLIMIT_FSIZE, &r);
  r = {0, 0};
  ::setrlimit(RLIMIT_CORE, &r);
  if (!kAsan) {
    r = {limits.maxAddressSpace, limits.maxAddressSpace};
    ::setrlimit(RLIMIT_AS, &r);
  }
  return installSeccomp();
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool runSandboxed(const std::function<bool(const std::function<bool(std::string_view)>& emit)>& work,
                  const SandboxLimits& limits, std::string* output, std::string* reason) {
  output->clear();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *reason = "internal:sandbox";
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    *reason = "internal:sandbox";
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    childMain(fds[1], work, limits);
  }
  ::close(fds[1]);
  bool ok = true;
  char buffer[64 * 1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(limits.deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      *reason = "limit:timeout";
      ok = false;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output->append(buffer, static_cast<size_t>(n));
    if (output->size() > limits.maxOutputBytes) {
      *reason = "limit:render-output";
      ok = false;
      break;
    }
  }
  ::close(fds[0]);
  if (!ok) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    *reason = WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU ? "limit:timeout" : "render-failed";
    ok = false;
  }
  if (!ok) output->clear();
  return ok;
}

}  // namespace lbg::sanitizer::render
