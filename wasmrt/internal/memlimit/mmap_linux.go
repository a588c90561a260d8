package memlimit

import "syscall"

const mapNoReserve = syscall.MAP_NORESERVE
