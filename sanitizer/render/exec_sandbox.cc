#include "sanitizer/render/exec_sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <thread>

namespace lbg::sanitizer::render {
namespace {

// Built in the parent: between fork and exec the child only makes system calls.
struct SeccompProgram {
  std::vector<sock_filter> code;
  sock_fprog prog{};
};

void buildSeccomp(SeccompProgram* p) {
  static const int kDenied[] = {
      SYS_ptrace,  SYS_process_vm_readv, SYS_process_vm_writev, SYS_mount, SYS_umount2, SYS_pivot_root,
      SYS_chroot,  SYS_unshare, SYS_setns, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_bpf,
      SYS_perf_event_open, SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
      SYS_kexec_load, SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_reboot, SYS_swapon,
      SYS_swapoff, SYS_acct, SYS_settimeofday, SYS_clock_settime, SYS_open_by_handle_at, SYS_name_to_handle_at};
  auto& c = p->code;
  c.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  c.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  c.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  c.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  c.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
  c.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  for (int nr : kDenied) {
    c.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1));
    c.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  }
  // socket(domain, ...): AF_UNIX only (LibreOffice's own pipes); everything else EAFNOSUPPORT.
  c.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3));
  c.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
  c.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0));
  c.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT));
  c.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  p->prog = {static_cast<unsigned short>(c.size()), c.data()};
}

void writeFile(const char* path, const char* data) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, data, std::strlen(data));
  (void)ignored;
  ::close(fd);
}

}  // namespace

bool runSandboxedExec(const ExecSpec& spec, int* exitCode, std::string* reason) {
  if (spec.argv.empty()) {
    *reason = "internal:sandbox";
    return false;
  }
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // Map ourselves to the same ids inside the new user namespace, so that files the program
  // writes in the work directory belong to us.
  std::string uidMap = std::to_string(::getuid()) + " " + std::to_string(::getuid()) + " 1\n";
  std::string gidMap = std::to_string(::getgid()) + " " + std::to_string(::getgid()) + " 1\n";
  SeccompProgram seccomp;
  buildSeccomp(&seccomp);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(spec.deadline - std::chrono::steady_clock::now());
  if (seconds.count() < 0) {
    *reason = "limit:timeout";
    return false;
  }
  rlim_t cpu = static_cast<rlim_t>(seconds.count() + 1);

  pid_t pid = ::fork();
  if (pid < 0) {
    *reason = "internal:sandbox";
    return false;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
      writeFile("/proc/self/setgroups", "deny");
      writeFile("/proc/self/uid_map", uidMap.c_str());
      writeFile("/proc/self/gid_map", gidMap.c_str());
    } else if (::unshare(CLONE_NEWNET) != 0) {
      ::_exit(120);  // no network namespace: refuse to run rather than run with the network
    }
    rlimit r{cpu, cpu};
    ::setrlimit(RLIMIT_CPU, &r);
    r = {spec.maxAddressSpace, spec.maxAddressSpace};
    ::setrlimit(RLIMIT_AS, &r);
    r = {spec.maxFileBytes, spec.maxFileBytes};
    ::setrlimit(RLIMIT_FSIZE, &r);
    r = {0, 0};
    ::setrlimit(RLIMIT_CORE, &r);
    if (::chdir(spec.workDir.c_str()) != 0) ::_exit(121);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(122);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp.prog) != 0) ::_exit(123);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(124);
  }
  ::setpgid(pid, pid);  // also from here, so the group exists before we may need to kill it
  int status = 0;
  bool exited = false;
  while (!exited) {
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      exited = true;
      break;
    }
    if (got < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > spec.deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Whatever the program left behind in its group goes too.
  ::kill(-pid, SIGKILL);
  if (!exited) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *reason = "limit:timeout";
    return false;
  }
  if (WIFEXITED(status)) {
    *exitCode = WEXITSTATUS(status);
    return true;
  }
  *reason = WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU ? "limit:timeout" : "conversion-failed";
  return false;
}

}  // namespace lbg::sanitizer::render
