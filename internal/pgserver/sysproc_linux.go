package pgserver

import "syscall"

// setPdeathsig makes the kernel SIGKILL the child when the thread that
// started it dies, so a process killed with -9 leaves no server behind.
// postgres' own backends notice their postmaster's death and exit too.
func setPdeathsig(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
