// A daemon that dies of a fatal signal says where, in its own log: the
// signal, the faulting address and a backtrace go to stderr (the journal
// under systemd), then the process dies of the same signal, so that a core
// dump and the exit status still tell what happened. A crash seen once in
// a long test run is then a report, not a guess.
#pragma once

namespace isergw::crash_report {

// Installs the handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT.
// Does nothing in builds with AddressSanitizer, whose own report is better.
void install();

// Whether install() reports faults in this build (false under AddressSanitizer).
bool active();

}  // namespace isergw::crash_report
