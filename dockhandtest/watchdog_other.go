//go:build !unix

package dockhandtest

import "os"

// startWatchdog: no watchdog here; Main or Release releases the holds.
func startWatchdog() (*os.File, error) { return nil, errNoWatchdog }

func watchdogPipe() (*os.File, error) { return nil, errNoWatchdog }
