//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package jsiiexit

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/aws/jsii-runtime-go"
)

func closeJSII() {
	saved, err := syscall.Dup(2)
	if err != nil {
		jsii.Close()
		return
	}
	defer syscall.Close(saved)
	r, w, err := os.Pipe()
	if err != nil {
		jsii.Close()
		return
	}
	if err := dup2(int(w.Fd()), 2); err != nil {
		r.Close()
		w.Close()
		jsii.Close()
		return
	}
	w.Close() // fd 2 is now the pipe's only write end
	var held bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&held, r)
		r.Close()
		close(copied)
	}()

	jsii.Close()
	waitForRuntimeWaiter(2 * time.Second)

	// Restoring fd 2 closes the pipe's last write end, which ends the copy.
	if err := dup2(saved, 2); err != nil {
		// stderr is lost either way; do not block on a copy that cannot end.
		return
	}
	<-copied
	os.Stderr.Write(withoutStrayLines(held.Bytes()))
}
