//go:build !linux

package pgserver

import "syscall"

// setPdeathsig does nothing where the kernel has no parent-death signal;
// there a server may outlive a process killed with -9.
func setPdeathsig(*syscall.SysProcAttr) {}
