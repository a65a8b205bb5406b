//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package ship

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalWidth reports whether f is a terminal and, if so, its width in columns (0 when
// it does not say). Only an *os.File can be one: a pipe, a file or a buffer is not.
func terminalWidth(f any) (bool, int) {
	file, ok := f.(*os.File)
	if !ok {
		return false, 0
	}
	ws, err := unix.IoctlGetWinsize(int(file.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return false, 0
	}
	return true, int(ws.Col)
}
