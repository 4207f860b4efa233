//go:build !linux

package tracker

import "syscall"

// reusePortControl is nil where SO_REUSEPORT is not used: one socket per address.
var reusePortControl func(network, address string, c syscall.RawConn) error
