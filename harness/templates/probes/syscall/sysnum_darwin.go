package main

import "syscall"

const sysGetpid = syscall.SYS_GETPID
