#include "common/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define ISERGW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ISERGW_ASAN 1
#endif
#endif

namespace isergw::crash_report {

namespace {

constexpr std::array kFatalSignals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// Everything below runs inside the signal handler: write(2) only, no
// allocation, no stdio.
void write_text(const char* text) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

void write_number(uintptr_t value, unsigned base) {
  std::array<char, 21> digits{};  // 2^64 has 20 decimal digits
  size_t at = digits.size() - 1;  // the last stays '\0'
  do {
    digits[--at] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0 && at > 0);
  write_text(&digits[at]);
}

void on_fatal_signal(int signal, siginfo_t* info, void*) {
  write_text("isergw: fatal signal ");
  write_number(static_cast<uintptr_t>(signal), 10);
  if (const char* name = sigabbrev_np(signal)) {
    write_text(" (SIG");
    write_text(name);
    write_text(")");
  }
  write_text(" at address 0x");
  write_number(reinterpret_cast<uintptr_t>(info->si_addr), 16);
  write_text("; backtrace:\n");
  std::array<void*, 64> frames{};
  const int count = backtrace(frames.data(), static_cast<int>(frames.size()));
  backtrace_symbols_fd(frames.data(), count, STDERR_FILENO);
  // SA_RESETHAND put the default action back: die of the same signal.
  raise(signal);
}

}  // namespace

bool active() {
#ifdef ISERGW_ASAN
  return false;
#else
  return true;
#endif
}

void install() {
#ifndef ISERGW_ASAN
  // The first backtrace() loads libgcc's unwinder, which allocates: done
  // now, not inside the handler.
  std::array<void*, 1> warm{};
  backtrace(warm.data(), static_cast<int>(warm.size()));
  // A stack overflow leaves no stack to report it on: the main thread's
  // handler runs on a stack of its own.
  static std::array<char, 64 * 1024> alternate_stack;
  stack_t stack{};
  stack.ss_sp = alternate_stack.data();
  stack.ss_size = alternate_stack.size();
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : kFatalSignals)
    sigaction(signal, &action, nullptr);
#endif
}

}  // namespace isergw::crash_report
