// core/diag/sigquit.h - GORT_DEBUG=sigquit=1: a SIGQUIT handler that dumps every
// goroutine (core/diag/sigquit.cc explains the protocol).
#pragma once

namespace gort {

// sigquit_install: if debug.sigquit is set, installs the handler, keeping the
// host's disposition to chain to. From rt_init, once the runtime is set up.
void sigquit_install();

// sigquit_remove: restores the host's disposition (unless the host has
// replaced the handler since) and waits for running handlers to finish their
// dump. From rt_shutdown, before anything is freed. No-op if not installed.
void sigquit_remove();

}  // namespace gort
