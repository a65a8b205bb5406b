//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package ship

// terminalWidth reports whether f is a terminal; on this system ship cannot tell, so it
// never treats its output as one: no line is rewritten, and nothing is asked interactively
// (pass --yes to approve or reject).
func terminalWidth(any) (bool, int) { return false, 0 }
