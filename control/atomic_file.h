#pragma once

#include <string>

#include "policy/base/result.h"

namespace lbg::control {

// Crash-safe replacement of one file: write a temporary file in the same directory, fsync it,
// rename it over the target, fsync the directory. After a crash at any point the target holds
// either its old or its new content, never a torn mix (POSIX rename is atomic).
Result<Ok> writeFileAtomic(const std::string& path, const std::string& content, int mode = 0640);

// Whole file into memory, refusing files above `maxBytes` (store files and catalogues are small;
// a huge file is an error, not an allocation).
Result<std::string> readFileLimited(const std::string& path, size_t maxBytes);

// fsync() on a directory, so that a created or renamed entry survives a crash.
Result<Ok> syncDirectory(const std::string& dir);

namespace testing {
// Called after the temporary file is durable and before the rename: tests install a hook that
// _exit()s a forked child here to reproduce a crash in the one window that matters.
using CrashHook = void (*)(const std::string& targetPath);
void setCrashHook(CrashHook hook);
}  // namespace testing

}  // namespace lbg::control
