package lambdaruntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/gobuild"
)

// built are the binaries Binary made in this test process, by package.
var (
	builtMu sync.Mutex
	built   = map[string]*binary{}
)

type binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary builds the Lambda main package pkg (relative to the module root, e.g.
// "./constructs/dashboard/lambda") for the host, once per test process, with the flags the
// deploy builds it with for linux/arm64 (gobuild), and returns the binary's path. A
// package's TestMain calls RemoveBinaries after its tests.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	builtMu.Lock()
	b := built[pkg]
	if b == nil {
		b = &binary{}
		built[pkg] = b
	}
	builtMu.Unlock()
	b.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "lambda-binary-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "bootstrap")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b.err = gobuild.Build(ctx, gobuild.Options{Package: pkg, Output: b.path, Dir: root, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH})
	})
	if b.err != nil {
		t.Fatalf("building %s: %v", pkg, b.err)
	}
	return b.path
}

// RemoveBinaries deletes what Binary built.
func RemoveBinaries() {
	builtMu.Lock()
	defer builtMu.Unlock()
	for _, b := range built {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
}

// moduleRoot is the directory of the go.mod above the working directory (a test runs in
// its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
