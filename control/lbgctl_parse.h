#pragma once

// lbgctl's command line, read from the command table (api.h, command_table.cc): the words and
// options of a command, the usage text and the shell completion candidates.

#include <string>
#include <vector>

#include "control/cli_args.h"

namespace lbg::control::cli {

// `words` start at the command ("policy", "commit", "-m", "x"). Throws UsageError (or a
// boost::program_options error) for a command line that cannot become a request.
CliInvocation parseCommand(const std::vector<std::string>& words);

// The usage text of `lbgctl --help`: one line per command, from the table.
std::string usageText();

// Completion for the word after `words` (the command words typed so far, global options
// removed): candidate words, or one line "files:GLOB" when a file name is expected.
std::vector<std::string> completions(const std::vector<std::string>& words);

}  // namespace lbg::control::cli
