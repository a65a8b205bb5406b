package jsiiexit

import "syscall"

// dup2 makes newfd a copy of oldfd; Linux on arm64 has no dup2 system call, only dup3.
func dup2(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }
